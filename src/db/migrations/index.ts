import type { Queryable } from '../index.ts';
import { core } from './001-core.ts';
import { composite } from './002-composite.ts';
import { terminology } from './003-terminology.ts';
import { ins } from './004-ins.ts';
import { quantityCanonical } from './005-quantity-canonical.ts';
import { auth } from './006-auth.ts';
import { annuaireImport } from './007-annuaire-import.ts';
import { ror } from './008-ror.ts';
import { sasAgregateur } from './009-sas-agregateur.ts';
import { sasPortail } from './010-sas-portail.ts';
import { searchCovering } from './011-search-covering.ts';
import { annuaireStructurePartagee } from './012-annuaire-structure-partagee.ts';
import { searchText } from './013-search-text.ts';
import { sasOffres } from './014-sas-offres.ts';
import { rorProfilExport } from './015-ror-profil-export.ts';

export interface Migration {
  version: number;
  name: string;
  up(tx: Queryable): Promise<void>;
}

export const migrations: Migration[] = [core, composite, terminology, ins, quantityCanonical, auth, annuaireImport, ror, sasAgregateur, sasPortail, searchCovering, annuaireStructurePartagee, searchText, sasOffres, rorProfilExport];
