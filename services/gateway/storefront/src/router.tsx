import type { ComponentChildren } from 'preact'
import { useEffect } from 'preact/hooks'
import { matchRoute, type Route } from './routes.js'
import { Store, useStore } from './store.js'

const current = new Store<Route>(matchRoute(location.pathname, location.search))

window.addEventListener('popstate', () => current.set(matchRoute(location.pathname, location.search)))

/** Go to a path of this site without reloading; `replace` keeps the back button where it was. */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace === true) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  current.set(matchRoute(location.pathname, location.search))
  if (options.replace !== true) window.scrollTo(0, 0)
}

export function useRoute(): Route {
  return useStore(current)
}

/** A normal link (open in new tab, copy address) that navigates in place on a plain click. */
export interface LinkProps {
  href: string
  children: ComponentChildren
  class?: string
  'aria-label'?: string
  'aria-current'?: 'page' | undefined
}

export function Link(props: LinkProps) {
  const { href, children, ...rest } = props
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    navigate(href)
  }
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  )
}

/** Sets the document title (and announces the page to screen readers via the title change). */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title === '' ? 'polyshop' : `${title} · polyshop`
  }, [title])
}
