/**
 * The admin token in this browser tab: sessionStorage only, so it goes when the tab closes; never
 * localStorage, never the URL. Setup stores the token it was given; the admin page reads it.
 */
const STORAGE_KEY = 'groundwork.adminToken';

export function readAdminToken(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage blocked by the browser: ask for the token instead
  }
}

export function storeAdminToken(value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(STORAGE_KEY);
    else sessionStorage.setItem(STORAGE_KEY, value);
  } catch {
    // Storage blocked: the token then lasts only as long as this page.
  }
}
