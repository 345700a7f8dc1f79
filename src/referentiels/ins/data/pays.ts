// Birth countries of persons born abroad: INSEE country code (COG, 99 + 3 digits) and a weight.
// Codes checked against an INSEE country table (ensea-school/BACKUP-ose-at-git.unicaen.fr, data/pays.php);
// weights are rough shares (per mille) of the foreign-born population of France by country of birth.

export interface PaysNaissance {
  code: string;
  libelle: string;
  poids: number;
}

export const PAYS_NAISSANCE: readonly PaysNaissance[] = [
  { code: '99352', libelle: 'ALGERIE', poids: 122 },
  { code: '99350', libelle: 'MAROC', poids: 117 },
  { code: '99139', libelle: 'PORTUGAL', poids: 79 },
  { code: '99351', libelle: 'TUNISIE', poids: 46 },
  { code: '99127', libelle: 'ITALIE', poids: 36 },
  { code: '99208', libelle: 'TURQUIE', poids: 33 },
  { code: '99134', libelle: 'ESPAGNE', poids: 31 },
  { code: '99132', libelle: 'ROYAUME-UNI', poids: 20 },
  { code: '99114', libelle: 'ROUMANIE', poids: 20 },
  { code: '99341', libelle: 'SENEGAL', poids: 20 },
  { code: '99326', libelle: "COTE D'IVOIRE", poids: 19 },
  { code: '99109', libelle: 'ALLEMAGNE', poids: 17 },
  { code: '99131', libelle: 'BELGIQUE', poids: 16 },
  { code: '99322', libelle: 'CAMEROUN', poids: 16 },
  { code: '99155', libelle: 'UKRAINE', poids: 15 },
  { code: '99216', libelle: 'CHINE', poids: 14 },
  { code: '99333', libelle: 'MADAGASCAR', poids: 13 },
  { code: '99335', libelle: 'MALI', poids: 12 },
  { code: '99312', libelle: 'CONGO (REPUBLIQUE DEMOCRATIQUE)', poids: 11 },
  { code: '99324', libelle: 'CONGO', poids: 10 },
  { code: '99410', libelle: 'HAITI', poids: 10 },
  { code: '99397', libelle: 'COMORES', poids: 9 },
  { code: '99243', libelle: 'VIET NAM', poids: 9 },
  { code: '99122', libelle: 'POLOGNE', poids: 9 },
  { code: '99123', libelle: 'RUSSIE', poids: 9 },
  { code: '99416', libelle: 'BRESIL', poids: 9 },
  { code: '99235', libelle: 'SRI LANKA', poids: 7 },
  { code: '99140', libelle: 'SUISSE', poids: 7 },
  { code: '99404', libelle: 'ETATS-UNIS', poids: 6 },
  { code: '99205', libelle: 'LIBAN', poids: 6 },
];
