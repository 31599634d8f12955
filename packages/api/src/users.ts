import Type from 'typebox'

const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 })
/** Length is checked by the password policy, with a readable message; this only bounds the work. */
const Password = Type.String({ minLength: 1, maxLength: 1024 })
/**
 * Something visible, and no control characters — C0, DEL, C1 (U+0085 is a line break), the line
 * and paragraph separators, the zero-width space and invisible characters (not the joiners that
 * Persian, Indic scripts and emoji need), or the bidirectional marks and
 * overrides that make text read other than it is stored: a name is one line wherever it is shown
 * or mailed, and what it shows is all there is.
 */
const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f\\u200b\\u200e\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff'
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: `^[^${CONTROL}]*[^\\s${CONTROL}][^${CONTROL}]*$` })
/** E.164, e.g. +4915123456789. */
const Phone = Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$' })
const RefreshToken = Type.String({ minLength: 20, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })

export const UserSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    name: Type.String(),
    phone: Type.Optional(Type.String()),
    roles: Type.Array(Type.Union([Type.Literal('customer'), Type.Literal('admin')])),
    disabled: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' })
  },
  { additionalProperties: false }
)

export const AuthPayloadSchema = Type.Object(
  { user: UserSchema, accessToken: Type.String(), refreshToken: Type.String(), expiresIn: Type.Integer() },
  { additionalProperties: false }
)

export const RegisterBody = Type.Object(
  { email: Email, password: Password, name: Name, phone: Type.Optional(Phone) },
  { additionalProperties: false }
)
export const LoginBody = Type.Object({ email: Email, password: Password }, { additionalProperties: false })
export const RefreshBody = Type.Object({ refreshToken: RefreshToken }, { additionalProperties: false })
export const LogoutBody = Type.Object({ refreshToken: Type.Optional(RefreshToken) }, { additionalProperties: false })
export const UpdateMeBody = Type.Object(
  { name: Type.Optional(Name), phone: Type.Optional(Type.Union([Phone, Type.Null()])) },
  { additionalProperties: false, minProperties: 1 }
)
export const UserIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false })
export const ListUsersQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' }))
  },
  { additionalProperties: false }
)
export const UserPageSchema = Type.Object(
  { items: Type.Array(UserSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false }
)
export const DisableBody = Type.Object({ disabled: Type.Boolean() }, { additionalProperties: false })
