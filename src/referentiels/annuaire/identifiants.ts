// Check keys of the national identifiers: RPPS (11 digits, the last a Luhn key), SIRET (Luhn),
// FINESS (9 characters, the last a Luhn key over the 8 before; Corsican numbers 2A/2B carry letters and
// are checked on their format only).

export function luhnValide(chiffres: string): boolean {
  if (!/^\d+$/.test(chiffres)) return false;
  return sommeLuhn(chiffres) % 10 === 0;
}

/** The digit that, appended to `debut`, makes a valid Luhn number. */
export function cleLuhn(debut: string): string {
  return String((10 - (sommeLuhn(`${debut}0`) % 10)) % 10);
}

function sommeLuhn(chiffres: string): number {
  let somme = 0;
  for (let i = 0; i < chiffres.length; i++) {
    let d = chiffres.charCodeAt(chiffres.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    somme += d;
  }
  return somme;
}

export const rppsValide = (v: string): boolean => /^\d{11}$/.test(v) && luhnValide(v);
export const siretValide = (v: string): boolean => /^\d{14}$/.test(v) && luhnValide(v);
export function finessValide(v: string): boolean {
  if (/^2[AB]\d{7}$/.test(v)) return true;
  return /^\d{9}$/.test(v) && luhnValide(v);
}
/** ADELI: 9 characters (department, profession, order number, key). */
export const adeliValide = (v: string): boolean => /^[0-9][0-9AB][0-9A-Z]{7}$/.test(v);
