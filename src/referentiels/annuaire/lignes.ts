// Streams the lines of an extract file as text with their line numbers, in flat memory whatever the
// file's size. The national extracts come in UTF-8 (RPPS since 2022) or Latin-1 (FINESS, older RPPS):
// the first megabyte decides (valid UTF-8 or not), and a later line that is not valid UTF-8 is read as
// Latin-1 rather than turned into replacement characters.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

export type Encodage = 'utf-8' | 'latin1';

export interface Ligne {
  numero: number;
  texte: string;
}

const SONDE = 1024 * 1024;

/** "utf-8" when the first megabyte is valid UTF-8 (a sequence cut at the end of the probe is allowed). */
export async function detecterEncodage(chemin: string): Promise<Encodage> {
  const fichier = await open(chemin, 'r');
  try {
    const tampon = Buffer.alloc(SONDE);
    const { bytesRead } = await fichier.read(tampon, 0, SONDE, 0);
    return estUtf8(tampon.subarray(0, bytesRead), bytesRead === SONDE) ? 'utf-8' : 'latin1';
  } finally {
    await fichier.close();
  }
}

function estUtf8(octets: Buffer, tronque: boolean): boolean {
  let fin = octets.length;
  if (tronque) {
    // Do not judge a multi-byte sequence cut by the end of the probe.
    let i = fin - 1;
    while (i > 0 && fin - i < 4 && (octets[i]! & 0xc0) === 0x80) i--;
    if (octets[i]! >= 0xc0) fin = i;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(octets.subarray(0, fin));
    return true;
  } catch {
    return false;
  }
}

/** Lines without their end (LF or CRLF); `depuis` skips the lines before it without decoding them (resumption). */
export async function* lireLignes(chemin: string, encodage: Encodage, depuis = 1): AsyncGenerator<Ligne> {
  let reste: Buffer | undefined;
  let numero = 0;
  const decoder = (octets: Buffer): string => {
    if (octets.length > 0 && octets[octets.length - 1] === 0x0d) octets = octets.subarray(0, -1);
    if (encodage === 'latin1') return octets.toString('latin1');
    const texte = octets.toString('utf8');
    return texte.includes('\ufffd') && !estUtf8(octets, false) ? octets.toString('latin1') : texte;
  };
  for await (const morceau of createReadStream(chemin, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    const bloc = reste ? Buffer.concat([reste, morceau]) : morceau;
    let debut = 0;
    for (let fin = bloc.indexOf(0x0a); fin !== -1; fin = bloc.indexOf(0x0a, debut)) {
      numero++;
      if (numero >= depuis) yield { numero, texte: decoder(bloc.subarray(debut, fin)) };
      debut = fin + 1;
    }
    reste = debut < bloc.length ? Buffer.from(bloc.subarray(debut)) : undefined;
  }
  if (reste && reste.length > 0) {
    numero++;
    if (numero >= depuis) yield { numero, texte: decoder(reste) };
  }
}
