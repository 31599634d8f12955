import Type from 'typebox'

/** GET /.well-known/jwks.json: the public keys access tokens are checked against. */
export const JwksSchema = Type.Object({
  keys: Type.Array(
    Type.Object({
      kty: Type.String(),
      crv: Type.String(),
      x: Type.String(),
      y: Type.String(),
      kid: Type.String(),
      alg: Type.String(),
      use: Type.String()
    })
  )
})
