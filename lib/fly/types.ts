/**
 * Friendly names for the Fly Machines API shapes generated in ./generated/openapi.ts (from the published OpenAPI
 * document, lib/fly/spec/). Field names are the wire names, exactly as fly-go's machine_types.go sends them.
 * @module
 */
import type { components } from "./generated/openapi.ts";

type Schemas = components["schemas"];

// Apps
export type App = Schemas["App"];
export type CreateAppRequest = Schemas["CreateAppRequest"];
export type CreateAppResponse = Schemas["CreateAppResponse"];
export type ListAppsResponse = Schemas["ListAppsResponse"];

// Machines and their config
export type Machine = Schemas["Machine"];
export type MachineConfig = Schemas["fly.MachineConfig"];
export type MachineGuest = Schemas["fly.MachineGuest"];
export type MachineService = Schemas["fly.MachineService"];
export type MachinePort = Schemas["fly.MachinePort"];
export type MachineCheck = Schemas["fly.MachineCheck"];
export type MachineServiceCheck = Schemas["fly.MachineServiceCheck"];
export type MachineMount = Schemas["fly.MachineMount"];
export type MachineRestart = Schemas["fly.MachineRestart"];
export type MachineInit = Schemas["fly.MachineInit"];
export type StopConfig = Schemas["fly.StopConfig"];
export type MachineEvent = Schemas["MachineEvent"];
export type MachineVersion = Schemas["MachineVersion"];
export type CheckStatus = Schemas["CheckStatus"];
export type CreateMachineRequest = Schemas["CreateMachineRequest"];
export type UpdateMachineRequest = Schemas["UpdateMachineRequest"];
export type StopRequest = Schemas["StopRequest"];
export type WaitMachineResponse = Schemas["WaitMachineResponse"];
export type UpdateMetadataRequest = Schemas["updateMetadataRequest"];

// Leases
export type Lease = Schemas["Lease"];
export type StrippedLease = Schemas["StrippedLease"];
export type CreateLeaseRequest = Schemas["CreateLeaseRequest"];

// Volumes
export type Volume = Schemas["Volume"];
export type CreateVolumeRequest = Schemas["CreateVolumeRequest"];

// Secrets
export type AppSecret = Schemas["AppSecret"];
export type AppSecrets = Schemas["AppSecrets"];
export type AppSecretsUpdateRequest = Schemas["AppSecretsUpdateRequest"];
export type AppSecretsUpdateResponse = Schemas["AppSecretsUpdateResp"];
export type SetAppSecretResponse = Schemas["SetAppSecretResponse"];
export type DeleteAppSecretResponse = Schemas["DeleteAppSecretResponse"];

// Deploy tokens
export type CreateDeployTokenRequest = Schemas["CreateAppDeployTokenRequest"];

// Managed Postgres
export type PostgresCluster = Schemas["PostgresCluster"];
export type PostgresClusterSummary = Schemas["PostgresClusterSummary"];
export type CreatePostgresClusterRequest = Schemas["createPostgresClusterRequest"];
export type PostgresAttachment = Schemas["PostgresAttachment"];
export type PostgresBackup = Schemas["PostgresBackup"];
export type PostgresDatabase = Schemas["PostgresDatabase"];
export type PostgresUser = Schemas["PostgresUser"];
export type PostgresUserCredentials = Schemas["PostgresUserCredentials"];
export type PostgresUserRole = NonNullable<PostgresUser["role"]>;
export type RestorePostgresClusterRequest = Schemas["restorePostgresClusterRequest"];

// IP assignments
export type IpAssignment = Schemas["IPAssignment"];
export type IpAssignmentType = Schemas["IPAssignmentType"];
export type AssignIpRequest = Schemas["assignIPRequest"];
export type AssignIpResponse = Schemas["AssignIPResponse"];
export type ListIpAssignmentsResponse = Schemas["listIPAssignmentsResponse"];

// One-off commands (POST .../machines/{id}/exec)
export type MachineExecRequest = Schemas["MachineExecRequest"];
export type MachineExecResponse = Schemas["flydv1.ExecResponse"];

// TLS certificates
export type CertificateDetail = Schemas["CertificateDetail"];
export type CertificateCheckResponse = Schemas["CertificateCheckResponse"];
export type CertificateEntry = Schemas["CertificateEntry"];
export type DnsRequirements = Schemas["DNSRequirements"];
export type DnsRecords = Schemas["DNSRecords"];
export type CreateAcmeCertificateRequest = Schemas["createAcmeCertificateRequest"];

// Errors
export type ErrorResponse = Schemas["ErrorResponse"];

/** Machine states the `/wait` endpoint accepts (spec enum of Machines_wait `state`). */
export type WaitableState = "started" | "stopped" | "suspended" | "destroyed" | "failed" | "settled";

/**
 * Machine lifecycle states (docs `machines/machine-states`). `Machine.state` is typed as a plain string by the
 * spec; this union is for callers that switch on it.
 */
export type MachineState =
  | "created"
  | "starting"
  | "started"
  | "stopping"
  | "stopped"
  | "suspending"
  | "suspended"
  | "restarting"
  | "updating"
  | "replacing"
  | "destroying"
  | "destroyed"
  | "failed"
  | "launch_failed"
  | "replaced"
  | "migrated";

/** Exit details flyd attaches to an `exit` event (`event.request.exit_event`, fly-go `MachineExitEvent`). */
export interface MachineExitEvent {
  exit_code?: number;
  guest_exit_code?: number;
  guest_signal?: number;
  signal?: number;
  oom_killed?: boolean;
  requested_stop?: boolean;
  restarting?: boolean;
  exited_at?: string;
}
