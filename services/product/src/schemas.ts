import Type from 'typebox'

export const ImageParams = Type.Object({ file: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}\\.svg$' }) }, { additionalProperties: false })
