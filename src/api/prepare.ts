/**
 * What every satwatch HTTP app shares: validation rules, the error shape and the shared JSON
 * schemas. Bodies are validated strictly (no type coercion, unknown fields refused); query
 * strings and path parameters are coerced from text as usual.
 */
import { Ajv } from 'ajv';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyInstance } from 'fastify';
import { errorSchema, registerErrorHandler } from './errors.js';
import { RouteMethods } from './method-not-allowed.js';
import { adminPaymentView, checkoutStatusView, paymentView } from './schemas.js';

const ajvOptions = {
  allErrors: false,
  strict: false,
  useDefaults: true,
  removeAdditional: false,
} as const;
const strictAjv = new Ajv({ ...ajvOptions, coerceTypes: false });
const coercingAjv = new Ajv({ ...ajvOptions, coerceTypes: 'array' });
for (const ajv of [strictAjv, coercingAjv]) ajv.addFormat('date-time', true);

/**
 * Request and reply types derived from the route schemas; `$ref`s name the shared schemas that
 * prepareApi registers, so a view is checked against the schema that documents it.
 */
export type ApiTypeProvider = JsonSchemaToTsProvider<{
  SerializerSchemaOptions: {
    references: [
      typeof errorSchema,
      typeof paymentView,
      typeof checkoutStatusView,
      typeof adminPaymentView,
    ];
  };
}>;

export function prepareApi(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strictAjv : coercingAjv).compile(schema),
  );
  // Routes registered from here on are known to the 404/405 answer.
  const routeMethods = new RouteMethods();
  routeMethods.track(app);
  registerErrorHandler(app, routeMethods);
  for (const schema of [errorSchema, paymentView, checkoutStatusView, adminPaymentView])
    app.addSchema(schema);
}
