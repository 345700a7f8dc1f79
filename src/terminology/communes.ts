// TRE_R13-Commune from data/referentiels/communes.csv (COG 2026, current communes): INSEE code,
// official name, department and postal codes. The NOS table also lists municipal districts
// (arrondissements) and former communes, which the file does not: the index records it as a
// "fragment". Like the SMT, the resource carries no concepts (content "not-present"); they are
// indexed from the file when first asked for, which takes seconds a first start need not pay.
import { readFile } from 'node:fs/promises';
import type { CodeSystem, CodeSystemConcept } from '@medplum/fhirtypes';

export const COMMUNE_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R13-Commune/FHIR/TRE-R13-Commune';
/** The COG year of data/referentiels/communes.csv. */
export const COMMUNES_VERSION = '2026';
export async function communesCodeSystem(csvPath: string): Promise<CodeSystem> {
  const rows = (await readFile(csvPath, 'utf8')).split('\n').filter(Boolean).length - 1;
  return {
    resourceType: 'CodeSystem',
    id: 'TRE-R13-Commune',
    url: COMMUNE_SYSTEM,
    version: COMMUNES_VERSION,
    name: 'TRE_R13_Commune',
    title: 'Commune (code officiel géographique INSEE 2026)',
    status: 'active',
    experimental: false,
    publisher: 'Socle, from INSEE COG 2026 via Etalab decoupage-administratif 6.0.0 (Licence Ouverte)',
    description:
      'Communes actuelles (France métropolitaine, Corse, DROM) au 1er janvier 2026 : code INSEE, nom officiel, département, codes postaux. ' +
      'Sans les arrondissements municipaux ni les communes disparues de la TRE_R13 nationale. Concepts indexés par le serveur depuis le fichier des communes.',
    caseSensitive: true,
    content: 'not-present',
    count: rows,
    property: [
      { code: 'departement', description: 'Code du département', type: 'code' },
      { code: 'codePostal', description: 'Code postal desservant la commune', type: 'string' },
    ],
  };
}

export async function communeConcepts(csvPath: string): Promise<CodeSystemConcept[]> {
  const lines = (await readFile(csvPath, 'utf8')).split('\n').filter(Boolean);
  const header = lines[0].split(',');
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${csvPath}: no column "${name}" in the header`);
    return i;
  };
  const [insee, nom, departement, postaux] = ['insee', 'nom', 'departement', 'codes_postaux'].map(col);
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    return {
      code: cells[insee],
      display: cells[nom],
      property: [
        { code: 'departement', valueCode: cells[departement] },
        ...cells[postaux].split(' ').filter(Boolean).map((cp) => ({ code: 'codePostal', valueString: cp })),
      ],
    };
  });
}
