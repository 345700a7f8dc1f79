// tls_client_auth (RFC 8705 §2.1), how Pro Santé Connect's proxies authenticate with their
// IGC-Santé certificate. The certificate comes from the TLS socket when the platform terminates
// TLS itself, or from the header a TLS-terminating proxy fills after verifying it
// (SOCLE_CLIENT_CERT_HEADER, URL-encoded PEM as nginx's $ssl_client_escaped_cert). Only name that
// header when the proxy overwrites it on every request: it is trusted as verified.
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { KoaContextWithOIDC } from 'oidc-provider';

export function mtlsFeature(header: string | undefined) {
  const tls = (ctx: KoaContextWithOIDC) => {
    const socket = ctx.req.socket as Partial<TLSSocket>;
    return typeof socket.getPeerCertificate === 'function' ? (socket as TLSSocket) : undefined;
  };
  const certificate = (ctx: KoaContextWithOIDC): X509Certificate | undefined => {
    const peer = tls(ctx)?.getPeerCertificate(false);
    if (peer?.raw) return new X509Certificate(peer.raw);
    const value = header ? ctx.get(header) : '';
    if (!value) return undefined;
    try {
      return new X509Certificate(decodeURIComponent(value));
    } catch {
      return undefined;
    }
  };
  return {
    enabled: true,
    tlsClientAuth: true,
    getCertificate: certificate,
    certificateAuthorized: (ctx: KoaContextWithOIDC) => {
      const socket = tls(ctx);
      return socket ? socket.authorized : !!header;
    },
    certificateSubjectMatches: (ctx: KoaContextWithOIDC, property: string, expected: string) => {
      const cert = certificate(ctx);
      return property === 'tls_client_auth_subject_dn' && !!cert && sameDn(cert.subject, expected);
    },
  };
}

/** Distinguished names compared attribute by attribute: "CN=x, O=y" (RFC 4514 order or not) matches Node's "O=y\nCN=x". */
export function sameDn(a: string, b: string): boolean {
  const norm = (dn: string) =>
    dn
      .split(/[\n,]/)
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const i = part.indexOf('=');
        return `${part.slice(0, i).trim().toUpperCase()}=${part.slice(i + 1).trim()}`;
      })
      .sort()
      .join('\n');
  return norm(a) === norm(b);
}
