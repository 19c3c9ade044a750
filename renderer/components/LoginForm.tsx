import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { HTTP_LOGIN_PATH, TOKEN_QUERY } from '../../common/contract.ts';

interface Props {
  /** Exchanges the password for the session token (the bridge's login endpoint by default). */
  login?(password: string): Promise<{ ok: true; token: string } | { ok: false; message: string }>;
  /** Opens the app with the token (a page load by default). */
  open?(token: string): void;
}

async function bridgeLogin(
  password: string,
): Promise<{ ok: true; token: string } | { ok: false; message: string }> {
  try {
    const r = await fetch(HTTP_LOGIN_PATH, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ password }),
    });
    const body = (await r.json()) as { ok: boolean; value?: { token: string }; error?: { message: string } };
    return body.ok && body.value
      ? { ok: true, token: body.value.token }
      : { ok: false, message: body.error?.message ?? `HTTP ${r.status}` };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

function openWithToken(token: string): void {
  const url = new URL(window.location.href);
  url.searchParams.set(TOKEN_QUERY, token);
  window.location.replace(url.toString());
}

/**
 * When `eardrum serve` listens on the network (a tablet or phone in the clinic), it is protected by a
 * password; this form trades it for the session token.
 */
export function LoginForm({ login = bridgeLogin, open = openWithToken }: Props) {
  const { t } = useTranslation();
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="login-form"
      aria-labelledby="login-title"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        void login(password).then((r) => {
          setBusy(false);
          if (r.ok) open(r.token);
          else setError(t('login.failed', { message: r.message }));
        });
      }}
    >
      <h2 id="login-title">{t('login.title')}</h2>
      <p className="muted">{t('login.hint')}</p>
      <label>
        {t('login.password')}
        <input
          type="password"
          value={password}
          autoComplete="current-password"
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy || password === ''}>
        {t('login.submit')}
      </button>
    </form>
  );
}
