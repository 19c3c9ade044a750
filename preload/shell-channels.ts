/** Electron-only pushes from the shell (menu) to the window; not part of the engine contract. */
export const SHELL_NAVIGATE_CHANNEL = 'shell.navigate';
export type ShellView = 'live' | 'board' | 'settings';

export interface EardrumShellApi {
  /** The app menu asked for a view; returns the unsubscribe function. */
  onNavigate(listener: (view: ShellView) => void): () => void;
}
