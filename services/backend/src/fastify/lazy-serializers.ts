import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler';

const buildSerializer = SerializerSelector();

/**
 * Fastify's own response serializers (fast-json-stringify, same options), each compiled on the
 * route's first reply with that status instead of all at startup: compiling every route's
 * response schemas was a good part of the time from spawn to listening, and of the idle heap,
 * for routes an instance may never answer. The output is the same.
 */
export const lazySerializers: SerializerFactory = (externalSchemas, options) => {
  const compile = buildSerializer(externalSchemas, options);
  return (route) => {
    let serialize: ((doc: unknown) => string) | undefined;
    return (doc) => (serialize ??= compile(route))(doc);
  };
};
