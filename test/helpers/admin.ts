import type { InjectOptions } from 'fastify';
import { expect } from 'vitest';
import type { TestApp } from './app.ts';

/** Sets the app up and returns a caller for admin routes with the admin token setup returned. */
export async function setUpWithAdmin(t: TestApp, type: 'pglite' | 'postgresql') {
  const response = await t.setUp(type);
  expect(response.statusCode).toBe(200);
  const token: string = response.json().admin_token;
  const call = (method: InjectOptions['method'], url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { token, call };
}
