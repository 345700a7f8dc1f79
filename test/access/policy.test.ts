// The policy engine: deny by default, reasons on every refusal, SMART scopes narrowing, patients
// narrowed to their own compartment.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, parseSmartScope, smartScopesAllow } from '../../src/access/policy.ts';
import type { Principal } from '../../src/access/principal.ts';
import { loadBaseDefinitions } from '../../src/fhir/definitions.ts';

loadBaseDefinitions();

const doctor: Principal = { kind: 'professional', issuer: 'https://x/auth/pro', subject: 'f:1:810001234567', clientId: 'lps', scopes: ['openid', 'scope_all'], idNatPs: '810001234567', professions: ['10'] };
const secretary: Principal = { ...doctor, subject: 'f:2:810009999999', idNatPs: '810009999999', professions: [] };
const patient: Principal = { kind: 'patient', issuer: 'https://x/auth/patient', subject: 'p1', clientId: 'mes', scopes: ['openid'], patientId: 'pat-1' };
const system: Principal = { kind: 'system', issuer: 'https://x/auth/pro', subject: 'svc', clientId: 'svc', scopes: ['system/Practitioner.read'] };

describe('policy engine', () => {
  it('refuses an anonymous caller with 401 and says what is missing', () => {
    const d = decide(undefined, { action: 'read', type: 'Patient' });
    assert.equal(d.allow, false);
    assert.equal(d.status, 401);
    assert.match(d.reason, /bearer access token is required/);
  });

  it('lets a physician read and write health data, and read but not change the directory', () => {
    assert.equal(decide(doctor, { action: 'read', type: 'Observation' }).allow, true);
    assert.equal(decide(doctor, { action: 'create', type: 'Observation' }).allow, true);
    assert.equal(decide(doctor, { action: 'search', type: 'Practitioner' }).allow, true);
    const change = decide(doctor, { action: 'update', type: 'Practitioner' });
    assert.equal(change.allow, false);
    assert.equal(change.status, 403);
  });

  it('refuses health data to a professional without a health profession, naming the Annuaire data', () => {
    const d = decide(secretary, { action: 'read', type: 'Observation' });
    assert.equal(d.allow, false);
    assert.match(d.reason, /reserved to health professionals.*810009999999/);
  });

  it('narrows a patient to their own compartment, read only', () => {
    const read = decide(patient, { action: 'search', type: 'Observation' });
    assert.deepEqual([read.allow, read.compartment], [true, 'pat-1']);
    assert.equal(decide(patient, { action: 'read', type: 'Patient' }).compartment, 'pat-1');
    assert.equal(decide(patient, { action: 'create', type: 'Observation' }).allow, false);
    assert.equal(decide(patient, { action: 'read', type: 'Practitioner' }).compartment, undefined, 'the directory is not narrowed');
    assert.equal(decide(patient, { action: 'read', type: 'Library' }).allow, false, 'outside any patient record');
  });

  it('keeps the audit trail to auditors and patients', () => {
    assert.equal(decide(doctor, { action: 'search', type: 'AuditEvent' }).allow, false);
    assert.equal(decide(patient, { action: 'search', type: 'AuditEvent' }).compartment, 'pat-1');
    assert.equal(decide({ ...system, admin: true }, { action: 'search', type: 'AuditEvent' }).allow, true);
  });

  it('reserves state-changing operations to administrators', () => {
    assert.equal(decide(doctor, { action: 'operation', operation: 'reindex', affectsState: true }).allow, false);
    assert.equal(decide(doctor, { action: 'operation', type: 'ValueSet', operation: 'expand', affectsState: false }).allow, true);
  });

  it('lets health professionals run the operations their definition opens to them, and no one else', () => {
    const rniv = { action: 'operation' as const, type: 'Patient', operation: 'identite-valider', affectsState: true, permittedTo: ['health-professionals' as const, 'insi-clients' as const] };
    assert.equal(decide(doctor, rniv).allow, true);
    const secretaryRefused = decide(secretary, rniv);
    assert.equal(secretaryRefused.allow, false);
    assert.match(secretaryRefused.reason, /reserved to health professionals, software with the INSi right .*, administrators/);
    assert.equal(decide(patient, rniv).allow, false);
    assert.equal(decide(system, rniv).allow, false);
    assert.equal(decide({ ...system, scopes: ['insi'] }, rniv).allow, true);
  });

  it('gives a system client exactly what its SMART scopes grant', () => {
    assert.equal(decide(system, { action: 'search', type: 'Practitioner' }).allow, true);
    const d = decide(system, { action: 'search', type: 'Patient' });
    assert.equal(d.allow, false);
    assert.match(d.reason, /system\/Practitioner\.read/);
    assert.equal(decide({ ...system, scopes: [] }, { action: 'read', type: 'Practitioner' }).allow, false);
  });

  it('lets SMART scopes narrow a professional token', () => {
    const narrowed = { ...doctor, scopes: ['openid', 'user/Observation.read'] };
    assert.equal(decide(narrowed, { action: 'read', type: 'Observation' }).allow, true);
    assert.equal(decide(narrowed, { action: 'create', type: 'Observation' }).allow, false);
    assert.equal(decide(narrowed, { action: 'read', type: 'Condition' }).allow, false);
  });
});

describe('SMART scopes', () => {
  it('parses v1 and v2 forms', () => {
    assert.deepEqual(parseSmartScope('patient/Observation.read'), { context: 'patient', type: 'Observation', read: true, write: false });
    assert.deepEqual(parseSmartScope('user/*.write'), { context: 'user', type: '*', read: false, write: true });
    assert.deepEqual(parseSmartScope('system/*.*'), { context: 'system', type: '*', read: true, write: true });
    assert.deepEqual(parseSmartScope('patient/Observation.rs'), { context: 'patient', type: 'Observation', read: true, write: false });
    assert.deepEqual(parseSmartScope('user/Patient.cud'), { context: 'user', type: 'Patient', read: false, write: true });
    assert.equal(parseSmartScope('scope_all'), undefined);
  });

  it('says nothing when the token has no SMART scope', () => {
    assert.equal(smartScopesAllow(['openid', 'scope_all'], { action: 'read', type: 'Patient' }), undefined);
  });
});
