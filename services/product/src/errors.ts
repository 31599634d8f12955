import { defineProblems } from '@polyshop/problem'

/** Every error the product service's REST API answers with (codes PRD_*). */
export const errors = defineProblems('PRD', {
  PRODUCT_NOT_FOUND: { status: 404, title: 'Product not found' },
  CATEGORY_NOT_FOUND: { status: 400, title: 'Unknown category' },
  WRONG_CURRENCY: { status: 400, title: 'Price in another currency' },
  INVALID_CURSOR: { status: 400, title: 'Invalid cursor' },
  RELEVANCE_NEEDS_QUERY: { status: 400, title: 'Relevance needs a search' },
  INVALID_PRICE_RANGE: { status: 400, title: 'Invalid price range' },
  IDS_ALONE: { status: 400, title: 'ids is a lookup on its own' },
  STOCK_CHANGE_UNCLEAR: { status: 400, title: 'Give the stock or an adjustment' },
  STOCK_CHANGED: { status: 409, title: 'The stock has changed' },
  STOCK_OUT_OF_RANGE: { status: 409, title: 'The stock would leave its range' }
})
