// Security-key ceremonies of the login pages (WebAuthn). A file, not an inline script: the pages'
// Content-Security-Policy allows scripts from the platform only. The server sends options and
// checks responses as JSON with base64url binary fields (the WebAuthn JSON serialisation).
const enc = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const dec = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));

async function post(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.message || 'La clé de sécurité n’a pas pu être utilisée.');
  return json;
}

async function enrol(options) {
  const cred = await navigator.credentials.create({
    publicKey: {
      ...options,
      challenge: dec(options.challenge),
      user: { ...options.user, id: dec(options.user.id) },
      excludeCredentials: (options.excludeCredentials || []).map((c) => ({ ...c, id: dec(c.id) })),
    },
  });
  return {
    id: cred.id,
    rawId: enc(cred.rawId),
    type: cred.type,
    response: {
      clientDataJSON: enc(cred.response.clientDataJSON),
      attestationObject: enc(cred.response.attestationObject),
      transports: cred.response.getTransports ? cred.response.getTransports() : [],
    },
    clientExtensionResults: cred.getClientExtensionResults(),
  };
}

async function login(options) {
  const cred = await navigator.credentials.get({
    publicKey: { ...options, challenge: dec(options.challenge), allowCredentials: (options.allowCredentials || []).map((c) => ({ ...c, id: dec(c.id) })) },
  });
  return {
    id: cred.id,
    rawId: enc(cred.rawId),
    type: cred.type,
    response: {
      clientDataJSON: enc(cred.response.clientDataJSON),
      authenticatorData: enc(cred.response.authenticatorData),
      signature: enc(cred.response.signature),
      userHandle: cred.response.userHandle ? enc(cred.response.userHandle) : undefined,
    },
    clientExtensionResults: cred.getClientExtensionResults(),
  };
}

for (const button of document.querySelectorAll('[data-webauthn]')) {
  // Disabled in the page until this handler is there; stays so without WebAuthn support.
  button.disabled = !window.PublicKeyCredential;
  button.addEventListener('click', async () => {
    const form = button.closest('form');
    const status = document.getElementById('webauthn-status');
    status.hidden = true;
    button.disabled = true;
    try {
      const body = { csrf: form.elements.csrf.value, login: form.elements.login ? form.elements.login.value : undefined };
      const options = await post(button.dataset.options, body);
      const response = button.dataset.webauthn === 'enrol' ? await enrol(options) : await login(options);
      const result = await post(button.dataset.verify, { csrf: body.csrf, response });
      location.assign(result.redirect);
    } catch (err) {
      status.textContent = err.name === 'NotAllowedError' ? 'Opération annulée ou clé non reconnue.' : err.message;
      status.hidden = false;
      button.disabled = false;
    }
  });
}
