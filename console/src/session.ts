// The signed-in key lives in this tab's session storage only: gone when the tab closes,
// never in a URL, a cookie or local storage.
const KEY = "faxbot.console.apiKey";

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeKey(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
}
