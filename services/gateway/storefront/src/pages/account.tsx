import { useState } from 'preact/hooks'
import { useMutation } from '../api/hooks.js'
import { LOGIN, REGISTER } from '../api/operations.js'
import type { AuthPayload } from '../api/types.js'
import { ErrorNote } from '../components/ui.js'
import { Link, navigate, useRoute, useTitle } from '../router.js'
import { pathTo } from '../routes.js'
import { startSession } from '../session.js'

/** Where to go after signing in: a page of this site named by `next`, else home. */
function nextPath(query: URLSearchParams): string {
  const next = query.get('next') ?? ''
  return next.startsWith('/') && !next.startsWith('//') ? next : pathTo('home')
}

export function SignInPage() {
  useTitle('Sign in')
  const route = useRoute()
  const login = useMutation<{ login: AuthPayload }, { email: string; password: string }>(LOGIN)
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const onSubmit = async (event: Event) => {
    event.preventDefault()
    const result = await login.run({ email: email.trim(), password })
    if (result === undefined) return
    startSession(result.login)
    navigate(nextPath(route.query), { replace: true })
  }
  return (
    <section class="narrow" aria-labelledby="signin-heading">
      <h1 id="signin-heading">Sign in</h1>
      <form class="stack" onSubmit={(event) => void onSubmit(event)}>
        <label for="signin-email">Email</label>
        <input
          id="signin-email"
          type="email"
          required
          autoComplete="email"
          value={email}
          onInput={(event) => setEmail(event.currentTarget.value)}
        />
        <label for="signin-password">Password</label>
        <input
          id="signin-password"
          type="password"
          required
          autoComplete="current-password"
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        <ErrorNote message={login.error} />
        <button type="submit" class="button button-primary" disabled={login.running}>
          {login.running ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p>
        New here? <Link href={pathTo('signUp', {}, { next: route.query.get('next') ?? undefined })}>Create an account</Link>
      </p>
    </section>
  )
}

/** The user service's rule, checked here first so the shopper hears it before sending. */
const MIN_PASSWORD = 10

export function SignUpPage() {
  useTitle('Create an account')
  const route = useRoute()
  const register = useMutation<{ register: AuthPayload }, { input: object }>(REGISTER)
  const [form, setForm] = useState({ name: '', email: '', password: '', phone: '' })
  const set = (name: keyof typeof form) => (event: Event) => setForm({ ...form, [name]: (event.currentTarget as HTMLInputElement).value })
  const onSubmit = async (event: Event) => {
    event.preventDefault()
    const phone = form.phone.replace(/[\s()-]/g, '')
    const result = await register.run({
      input: { name: form.name.trim(), email: form.email.trim(), password: form.password, ...(phone === '' ? {} : { phone }) }
    })
    if (result === undefined) return
    startSession(result.register)
    navigate(nextPath(route.query), { replace: true })
  }
  return (
    <section class="narrow" aria-labelledby="signup-heading">
      <h1 id="signup-heading">Create an account</h1>
      <form class="stack" onSubmit={(event) => void onSubmit(event)}>
        <label for="signup-name">Name</label>
        <input id="signup-name" required maxLength={100} autoComplete="name" value={form.name} onInput={set('name')} />
        <label for="signup-email">Email</label>
        <input id="signup-email" type="email" required autoComplete="email" value={form.email} onInput={set('email')} />
        <label for="signup-password">Password</label>
        <input
          id="signup-password"
          type="password"
          required
          minLength={MIN_PASSWORD}
          maxLength={128}
          autoComplete="new-password"
          aria-describedby="signup-password-hint"
          value={form.password}
          onInput={set('password')}
        />
        <p id="signup-password-hint" class="hint">
          At least {MIN_PASSWORD} characters.
        </p>
        <label for="signup-phone">Mobile number (optional, for shipping texts)</label>
        <input
          id="signup-phone"
          type="tel"
          autoComplete="tel"
          placeholder="+49 151 23456789"
          pattern="\+?[0-9 ()-]{7,20}"
          value={form.phone}
          onInput={set('phone')}
          aria-describedby="signup-phone-hint"
        />
        <p id="signup-phone-hint" class="hint">
          International format, starting with + and the country code.
        </p>
        <ErrorNote message={register.error} />
        <button type="submit" class="button button-primary" disabled={register.running}>
          {register.running ? 'Creating your account…' : 'Create account'}
        </button>
      </form>
      <p>
        Have an account? <Link href={pathTo('signIn', {}, { next: route.query.get('next') ?? undefined })}>Sign in</Link>
      </p>
    </section>
  )
}
