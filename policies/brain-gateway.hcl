# Brain Gateway's Vault policy: exactly what the gateway does, nothing more.
# `npm run vault:setup` writes it (as policy "brain-gateway") and binds it to the gateway's
# AppRole role; the local stack runs the gateway under it, so a missing capability fails on a
# laptop as it would in production. The mount is written as "secret/"; vault:setup rewrites it
# to VAULT_KV_MOUNT.

# Tenants' provider keys (KV v2 data): store a key (create), rotate it (update), read it for a
# provider call or a reconcile (read).
path "secret/data/tenants/+/api_keys/*" {
  capabilities = ["create", "read", "update"]
}

# Their metadata: versions and deletion state (read), a tenant's key list (list on the folder
# tenants/<tenant>/api_keys/), delete a key with every version (delete).
path "secret/metadata/tenants/+/api_keys/*" {
  capabilities = ["read", "list", "delete"]
}

# Content connectors' credentials (WordPress, Shopify): stored at create (create), rotated (update),
# read by each sync step (read); deleted with every version when the connector is deleted.
path "secret/data/tenants/+/connectors/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/tenants/+/connectors/*" {
  capabilities = ["delete"]
}

# The gateway asks Vault about its own token to tell an expired token from a policy denial
# (older Vault answers both with a bare "permission denied"). Vault's default policy grants this
# too; it is repeated here so the gateway works with token_no_default_policy.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
