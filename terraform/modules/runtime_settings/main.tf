# The runtime settings every Temporal task gets, and the DSQL connection budget they imply.
#
# No provider and no resource: only values. The root module feeds it the same Terraform outputs
# `temporal-dsql-runtime tf-to-env --endpoint vpc` reads, and it writes the same setting names with the
# same values (tests/test_terraform_ecs.py applies this module on its own and compares the two), plus
# what a task on ECS needs beside them: its role, pool sizes, replica counts and the runtime directory.

terraform {
  required_version = ">= 1.9.0"
}

variable "region" {
  type        = string
  description = "AWS Region of the stack (the root output `region`)."
}

variable "dsql_public_endpoint" {
  type        = string
  description = "Public host name of the DSQL cluster (the root output `dsql_public_endpoint`): the host the DSQL token is signed for."
}

variable "dsql_vpc_endpoint_dns_entries" {
  type = list(object({
    dns_name       = string
    hosted_zone_id = string
  }))
  description = "DNS entries of the DSQL interface endpoint (the root output `dsql_vpc_endpoint_dns_entries`); the first is the Regional name."

  validation {
    condition     = length(var.dsql_vpc_endpoint_dns_entries) > 0
    error_message = "dsql_vpc_endpoint_dns_entries must hold at least the endpoint's Regional DNS entry."
  }
}

variable "opensearch_domain_endpoint" {
  type        = string
  description = "HTTPS URL of the OpenSearch visibility domain (the root output `opensearch_domain_endpoint`)."
}

variable "history_shards" {
  type        = number
  description = "TEMPORAL_HISTORY_SHARDS: history shards, fixed for the cluster's life."
}

variable "runtime_dir" {
  type        = string
  description = "TEMPORAL_RUNTIME_DIR: the writable directory of each task (its ephemeral volume's mount point)."
}

variable "services" {
  type = map(object({
    max_tasks     = number
    sql_max_conns = number
  }))
  description = "Per role (frontend, history, matching, worker): the most tasks that can run at once (a deployment's surge included) and the pool size."
}

variable "dsql_cluster_connection_limit" {
  type        = number
  description = "The DSQL cluster's connection quota (the root variable of the same name)."
}

locals {
  # Mirrors the runtime's rule (src/temporal_dsql_runtime/rules.py): each role in a process has one
  # persistence pool of the largest size any of its roles asks for; visibility (OpenSearch here) never counts.
  # Every task here runs a single role, so one pool per process.
  pools_per_process = 1

  dsql_connections = {
    for role, service in var.services : role => service.max_tasks * service.sql_max_conns * local.pools_per_process
  }
  dsql_connections_total = sum(values(local.dsql_connections))

  # The names and values `tf-to-env --endpoint vpc` writes (src/temporal_dsql_runtime/tf_to_env.py): the
  # interface endpoint's Regional name (a leading "*." becomes the cluster id) dialled, the token signed for the
  # cluster's public name (CLUSTER_ENDPOINT), TLS on without host verification (AWS's PrivateLink guide: no
  # verify-full on the endpoint's own name), plugin auth as admin, OpenSearch with SigV4 and the v7 API.
  from_terraform_outputs = {
    TEMPORAL_SQL_PLUGIN_NAME                  = "dsql"
    TEMPORAL_SQL_HOST                         = lower(replace(var.dsql_vpc_endpoint_dns_entries[0].dns_name, "/^\\*\\./", "${split(".", var.dsql_public_endpoint)[0]}."))
    TEMPORAL_SQL_PORT                         = "5432"
    TEMPORAL_SQL_DATABASE                     = "postgres"
    TEMPORAL_SQL_USER                         = "admin"
    TEMPORAL_SQL_AUTH_METHOD                  = "plugin"
    TEMPORAL_SQL_REGION                       = var.region
    TEMPORAL_SQL_TLS_ENABLED                  = "true"
    TEMPORAL_SQL_TLS_ENABLE_HOST_VERIFICATION = "false"
    CLUSTER_ENDPOINT                          = lower(var.dsql_public_endpoint)
    TEMPORAL_VISIBILITY_STORE                 = "opensearch"
    TEMPORAL_OPENSEARCH_ENDPOINT              = trimsuffix(var.opensearch_domain_endpoint, "/")
    TEMPORAL_OPENSEARCH_VERSION               = "v7"
    TEMPORAL_OPENSEARCH_INDEX                 = "temporal_visibility_v1"
    TEMPORAL_OPENSEARCH_AUTH                  = "aws-sigv4"
    TEMPORAL_OPENSEARCH_REGION                = var.region
    AWS_REGION                                = var.region
  }

  # What every task adds: the cluster's shape, so the launcher checks the same connection budget at start.
  cluster_shape = merge(
    {
      TEMPORAL_HISTORY_SHARDS                = tostring(var.history_shards)
      TEMPORAL_RUNTIME_DIR                   = var.runtime_dir
      TEMPORAL_LAUNCHER_LOG_FORMAT           = "json"
      TEMPORAL_DSQL_CLUSTER_CONNECTION_LIMIT = tostring(var.dsql_cluster_connection_limit)
    },
    { for role, service in var.services : "TEMPORAL_${upper(role)}_REPLICAS" => tostring(service.max_tasks) },
    { for role, service in var.services : "TEMPORAL_${upper(role)}_SQL_MAX_CONNS" => tostring(service.sql_max_conns) },
  )

  common = merge(local.from_terraform_outputs, local.cluster_shape)
}

output "environment" {
  description = "Per role: every variable of its task, TEMPORAL_SERVICES set to that role alone."
  value       = { for role in keys(var.services) : role => merge(local.common, { TEMPORAL_SERVICES = role }) }

  precondition {
    condition     = local.dsql_connections_total <= var.dsql_cluster_connection_limit
    error_message = "DSQL connection budget: ${join(" + ", [for role, count in local.dsql_connections : "${role} ${var.services[role].max_tasks} tasks x ${var.services[role].sql_max_conns} connections x ${local.pools_per_process} pool(s)"])} = ${local.dsql_connections_total} connections, over dsql_cluster_connection_limit (${var.dsql_cluster_connection_limit}). Lower ecs_services.<role>.max_replicas or ecs_services.<role>.sql_max_conns (or ecs_deployment_maximum_percent), or raise the cluster's quota and then dsql_cluster_connection_limit."
  }
}

output "schema_environment" {
  description = "The variables of the one-off schema task: the same settings without a role."
  value       = local.common
}

output "from_terraform_outputs" {
  description = "The settings `tf-to-env --endpoint vpc` writes from the same outputs (names and values)."
  value       = local.from_terraform_outputs
}

output "dsql_connections" {
  description = "DSQL connections the services can hold at most, per role and in total."
  value       = merge(local.dsql_connections, { total = local.dsql_connections_total })
}
