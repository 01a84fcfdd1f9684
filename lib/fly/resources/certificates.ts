/** TLS certificates issued by Fly over ACME: request, read (404 -> undefined), re-check DNS, delete. @module */

import { isFlyApiError } from "../errors.ts";
import type { CertificateCheckResponse, CertificateDetail } from "../types.ts";
import { appParams, type Caller } from "./call.ts";

export function certificatesApi({ callJson, callDelete }: Caller) {
  return {
    /** Asks Fly to issue a certificate for `hostname`; 422 when the hostname is refused or already taken. */
    createAcmeCertificate(
      appName: string,
      hostname: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<CertificateDetail> {
      return callJson<CertificateDetail>("createAcmeCertificate", {
        params: appParams(appName),
        body: { hostname },
        signal: opts.signal,
      });
    },

    /** The certificate with its DNS requirements, or undefined when the app has none for `hostname` (404). */
    async getCertificate(
      appName: string,
      hostname: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<CertificateDetail | undefined> {
      try {
        return await callJson<CertificateDetail>("getCertificate", {
          params: { app_name: appName, hostname },
          signal: opts.signal,
        });
      } catch (error) {
        if (isFlyApiError(error) && error.status === 404) return undefined;
        throw error;
      }
    },

    /** Re-checks DNS and retries validation; the answer adds what DNS resolves to now (`dns_records`). */
    checkCertificate(
      appName: string,
      hostname: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<CertificateCheckResponse> {
      return callJson<CertificateCheckResponse>("checkCertificate", {
        params: { app_name: appName, hostname },
        signal: opts.signal,
      });
    },

    deleteCertificate(appName: string, hostname: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
      return callDelete("deleteCertificate", { params: { app_name: appName, hostname }, signal: opts.signal });
    },
  };
}
