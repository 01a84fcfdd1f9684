/**
 * Every Machines API route the client calls, as data (octokit's "METHOD /path/{param}" idea). The path type is
 * the generated `paths` of the OpenAPI document, so a route that is not in the spec does not compile, and
 * test/lib/fly/routes.test.ts also checks each method against the spec file.
 * @module
 */

import type { paths } from "./generated/openapi.ts";
import type { HttpMethod } from "./transport.ts";

export type Route = readonly [HttpMethod, keyof paths];

export const ROUTES = {
  listApps: ["GET", "/v1/apps"],
  createApp: ["POST", "/v1/apps"],
  getApp: ["GET", "/v1/apps/{app_name}"],
  deleteApp: ["DELETE", "/v1/apps/{app_name}"],

  listMachines: ["GET", "/v1/apps/{app_name}/machines"],
  createMachine: ["POST", "/v1/apps/{app_name}/machines"],
  getMachine: ["GET", "/v1/apps/{app_name}/machines/{machine_id}"],
  updateMachine: ["POST", "/v1/apps/{app_name}/machines/{machine_id}"],
  destroyMachine: ["DELETE", "/v1/apps/{app_name}/machines/{machine_id}"],
  startMachine: ["POST", "/v1/apps/{app_name}/machines/{machine_id}/start"],
  stopMachine: ["POST", "/v1/apps/{app_name}/machines/{machine_id}/stop"],
  suspendMachine: ["POST", "/v1/apps/{app_name}/machines/{machine_id}/suspend"],
  cordonMachine: ["POST", "/v1/apps/{app_name}/machines/{machine_id}/cordon"],
  uncordonMachine: ["POST", "/v1/apps/{app_name}/machines/{machine_id}/uncordon"],
  waitMachine: ["GET", "/v1/apps/{app_name}/machines/{machine_id}/wait"],
  listEvents: ["GET", "/v1/apps/{app_name}/machines/{machine_id}/events"],
  listVersions: ["GET", "/v1/apps/{app_name}/machines/{machine_id}/versions"],
  getLease: ["GET", "/v1/apps/{app_name}/machines/{machine_id}/lease"],
  acquireLease: ["POST", "/v1/apps/{app_name}/machines/{machine_id}/lease"],
  releaseLease: ["DELETE", "/v1/apps/{app_name}/machines/{machine_id}/lease"],
  getMetadata: ["GET", "/v1/apps/{app_name}/machines/{machine_id}/metadata"],
  updateMetadata: ["PATCH", "/v1/apps/{app_name}/machines/{machine_id}/metadata"],
  setMetadata: ["POST", "/v1/apps/{app_name}/machines/{machine_id}/metadata/{key}"],
  deleteMetadata: ["DELETE", "/v1/apps/{app_name}/machines/{machine_id}/metadata/{key}"],

  listVolumes: ["GET", "/v1/apps/{app_name}/volumes"],
  createVolume: ["POST", "/v1/apps/{app_name}/volumes"],
  getVolume: ["GET", "/v1/apps/{app_name}/volumes/{volume_id}"],
  deleteVolume: ["DELETE", "/v1/apps/{app_name}/volumes/{volume_id}"],

  listSecrets: ["GET", "/v1/apps/{app_name}/secrets"],
  updateSecrets: ["POST", "/v1/apps/{app_name}/secrets"],
  getSecret: ["GET", "/v1/apps/{app_name}/secrets/{secret_name}"],
  setSecret: ["POST", "/v1/apps/{app_name}/secrets/{secret_name}"],
  unsetSecret: ["DELETE", "/v1/apps/{app_name}/secrets/{secret_name}"],

  createDeployToken: ["POST", "/v1/apps/{app_name}/deploy_token"],

  // Managed Postgres (lib/fly/resources/postgres.ts)
  listPostgresClusters: ["GET", "/v1/postgres"],
  createPostgresCluster: ["POST", "/v1/postgres"],
  getPostgresCluster: ["GET", "/v1/postgres/{postgres_cluster_id}"],
  deletePostgresCluster: ["DELETE", "/v1/postgres/{postgres_cluster_id}"],
  createPostgresAttachment: ["POST", "/v1/postgres/{postgres_cluster_id}/attachments"],
  deletePostgresAttachment: ["DELETE", "/v1/postgres/{postgres_cluster_id}/attachments/{app_name}"],
  listPostgresBackups: ["GET", "/v1/postgres/{postgres_cluster_id}/backups"],
  createPostgresBackup: ["POST", "/v1/postgres/{postgres_cluster_id}/backups"],
  restorePostgresCluster: ["POST", "/v1/postgres/{postgres_cluster_id}/restore"],
  listPostgresDatabases: ["GET", "/v1/postgres/{postgres_cluster_id}/databases"],
  createPostgresDatabase: ["POST", "/v1/postgres/{postgres_cluster_id}/databases"],
  listPostgresUsers: ["GET", "/v1/postgres/{postgres_cluster_id}/users"],
  createPostgresUser: ["POST", "/v1/postgres/{postgres_cluster_id}/users"],
  getPostgresUserCredentials: ["GET", "/v1/postgres/{postgres_cluster_id}/users/{username}/credentials"],

  listIpAssignments: ["GET", "/v1/apps/{app_name}/ip_assignments"],
  assignIp: ["POST", "/v1/apps/{app_name}/ip_assignments"],
  deleteIp: ["DELETE", "/v1/apps/{app_name}/ip_assignments/{ip}"],

  execMachine: ["POST", "/v1/apps/{app_name}/machines/{machine_id}/exec"],

  createAcmeCertificate: ["POST", "/v1/apps/{app_name}/certificates/acme"],
  getCertificate: ["GET", "/v1/apps/{app_name}/certificates/{hostname}"],
  deleteCertificate: ["DELETE", "/v1/apps/{app_name}/certificates/{hostname}"],
  checkCertificate: ["POST", "/v1/apps/{app_name}/certificates/{hostname}/check"],
} as const satisfies Record<string, Route>;

export type RouteName = keyof typeof ROUTES;
