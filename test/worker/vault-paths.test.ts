import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/errors/problem";
import { VaultError } from "../../src/vault/http";
import { assertSafePath, keyPath, keysFolder, pathShape } from "../../src/vault/paths";

const TENANT = "11111111-1111-4111-8111-111111111111";

describe("Vault paths are built only from validated parts", () => {
  it("builds the tenant's key path", () => {
    expect(keyPath(TENANT, "openai")).toBe(`tenants/${TENANT}/api_keys/openai`);
    expect(keysFolder(TENANT)).toBe(`tenants/${TENANT}/api_keys`);
  });

  it.each(["..", ".", "a/b", "a%2F..", "OpenAI", "", "a".repeat(65), "x\u0000"])(
    "refuses the service %j",
    (service) => {
      expect(() => keyPath(TENANT, service)).toThrow(ApiError);
    },
  );

  it.each(["../other", "not-a-uuid", ""])("refuses the tenant %j", (tenant) => {
    expect(() => keyPath(tenant, "openai")).toThrow(ApiError);
  });

  it.each(["tenants/../x", "tenants/./x", "tenants//x", "a/%2e%2e/b", "a/b/"])("the last check refuses %j", (path) => {
    expect(() => assertSafePath(path)).toThrow(ApiError);
  });

  it("logs a refused path by its shape: no tenant, no service", () => {
    const shape = pathShape(`secret/data/${keyPath(TENANT, "openai")}`);
    expect(shape).toBe("secret/data/tenants/:tenant/api_keys/:service");
    expect(pathShape(`secret/metadata/${keysFolder(TENANT)}`)).toBe("secret/metadata/tenants/:tenant/api_keys");
    const err = new VaultError("permission_denied", 403, undefined, `DELETE ${shape}`);
    expect(err.message).toBe(
      "vault permission_denied (HTTP 403) on DELETE secret/data/tenants/:tenant/api_keys/:service",
    );
    expect(err.message).not.toContain(TENANT);
  });
});
