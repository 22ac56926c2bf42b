# Inputs of the module. Every variable has a type and a description; where a wrong value is possible
# it is rejected at plan time by a validation block whose message names what the variable accepts.

# --- General -----------------------------------------------------------------------------------------

variable "aws_region" {
  type        = string
  description = "AWS Region to deploy into, for example eu-west-1. Aurora DSQL must be available there."
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS Region code such as eu-west-1 or us-east-2."
  }
}

variable "project_name" {
  type        = string
  description = "Short name used as a prefix for every resource name (the OpenSearch domain is <project_name>-visibility)."
  default     = "temporal-dsql"

  validation {
    # The OpenSearch domain name is limited to 28 characters: 17 + len("-visibility").
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}[a-z0-9]$", var.project_name))
    error_message = "project_name must be 3-17 characters: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "tags" {
  type        = map(string)
  description = "Extra tags added to every resource through the provider's default_tags."
  default     = {}
}

variable "log_retention_days" {
  type        = number
  description = "Retention in days of every CloudWatch log group the module creates (VPC flow logs, Client VPN, OpenSearch)."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

# --- Network -----------------------------------------------------------------------------------------

variable "vpc_cidr" {
  type        = string
  description = "IPv4 CIDR block of the VPC, prefix length /16 to /24."
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 24, false)
    error_message = "vpc_cidr must be an IPv4 CIDR block with a prefix length from /16 to /24, for example 10.42.0.0/16."
  }
}

variable "private_subnet_cidrs" {
  type        = list(string)
  description = "IPv4 CIDR blocks of the private subnets, one per Availability Zone (2 to 6, in the Region's AZ order), each inside vpc_cidr."
  default     = ["10.42.0.0/20", "10.42.16.0/20", "10.42.32.0/20"]

  validation {
    condition     = length(var.private_subnet_cidrs) >= 2 && length(var.private_subnet_cidrs) <= 6
    error_message = "private_subnet_cidrs must list 2 to 6 CIDR blocks (one per Availability Zone)."
  }

  validation {
    condition     = alltrue([for cidr in var.private_subnet_cidrs : can(cidrhost(cidr, 0)) && try(tonumber(split("/", cidr)[1]) <= 28, false)])
    error_message = "private_subnet_cidrs must contain only IPv4 CIDR blocks with a prefix length of /28 or larger, for example 10.42.0.0/20."
  }

  validation {
    condition     = length(distinct(var.private_subnet_cidrs)) == length(var.private_subnet_cidrs)
    error_message = "private_subnet_cidrs must not repeat a CIDR block."
  }

  validation {
    condition = alltrue([
      for cidr in var.private_subnet_cidrs : try(
        tonumber(split("/", cidr)[1]) >= tonumber(split("/", var.vpc_cidr)[1]) &&
        cidrhost("${split("/", cidr)[0]}/${split("/", var.vpc_cidr)[1]}", 0) == cidrhost(var.vpc_cidr, 0),
        false
      )
    ])
    error_message = "private_subnet_cidrs: every entry must lie inside vpc_cidr."
  }
}

variable "availability_zone_names" {
  type        = list(string)
  description = "Availability Zones of the private subnets, one per private_subnet_cidrs entry, in order. null: <aws_region>a, <aws_region>b, ... (set it where the Region's zone letters differ for your account)."
  default     = null

  validation {
    condition = var.availability_zone_names == null || try(
      length(var.availability_zone_names) == length(var.private_subnet_cidrs) &&
      alltrue([for zone in var.availability_zone_names : can(regex("^${var.aws_region}[a-z]$", zone))]) &&
      length(distinct(var.availability_zone_names)) == length(var.availability_zone_names),
      false
    )
    error_message = "availability_zone_names must be null or list one distinct zone of aws_region (such as eu-west-1a) per private_subnet_cidrs entry."
  }
}

variable "temporal_task_security_group_ids" {
  type        = list(string)
  description = "Security groups of the Temporal tasks (ECS/EKS/EC2) allowed to reach DSQL on 5432 and OpenSearch on 443. Empty: none."
  default     = []

  validation {
    condition     = alltrue([for id in var.temporal_task_security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", id))])
    error_message = "temporal_task_security_group_ids must contain only security group ids such as sg-0123456789abcdef0."
  }
}

variable "temporal_task_cidrs" {
  type        = list(string)
  description = "IPv4 CIDR blocks of Temporal tasks allowed to reach DSQL on 5432 and OpenSearch on 443. Empty: none. 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = alltrue([for cidr in var.temporal_task_cidrs : can(cidrhost(cidr, 0)) && try(tonumber(split("/", cidr)[1]) >= 8, false)])
    error_message = "temporal_task_cidrs must contain only IPv4 CIDR blocks with a prefix length of /8 or longer (0.0.0.0/0 is not allowed)."
  }
}

# --- Aurora DSQL ---------------------------------------------------------------------------------------

variable "dsql_deletion_protection" {
  type        = bool
  description = "Whether the Aurora DSQL cluster refuses deletion. Set false only for throw-away test environments."
  default     = true
}

variable "dsql_kms_key_arn" {
  type        = string
  description = "ARN of a customer managed KMS key that encrypts the DSQL cluster; null uses an AWS owned key."
  default     = null

  validation {
    condition     = var.dsql_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+$", var.dsql_kms_key_arn))
    error_message = "dsql_kms_key_arn must be null or a KMS key ARN such as arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab."
  }
}

variable "dsql_vpc_endpoint_private_dns_enabled" {
  type        = bool
  description = "Whether the DSQL interface endpoint gets private DNS names inside the VPC. The endpoint's own DNS names work either way."
  default     = false
}

# --- OpenSearch ----------------------------------------------------------------------------------------

variable "opensearch_engine_version" {
  type        = string
  description = "OpenSearch engine version of the visibility domain (1.x or 2.x; Temporal talks to it with its Elasticsearch v7 client)."
  default     = "OpenSearch_2.19"

  validation {
    condition     = can(regex("^OpenSearch_[12]\\.[0-9]+$", var.opensearch_engine_version))
    error_message = "opensearch_engine_version must look like OpenSearch_2.19 (major version 1 or 2)."
  }
}

variable "opensearch_instance_type" {
  type        = string
  description = "Instance type of the OpenSearch data nodes, for example t3.small.search or r6g.large.search."
  default     = "t3.small.search"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+\\.search$", var.opensearch_instance_type))
    error_message = "opensearch_instance_type must be an OpenSearch instance type ending in .search, for example t3.small.search."
  }
}

variable "opensearch_instance_count" {
  type        = number
  description = "Number of OpenSearch data nodes: 1 (single AZ) or an even number / multiple of 3 from 2 to 30 (zone awareness across 2 or 3 AZs)."
  default     = 2

  validation {
    condition = (
      var.opensearch_instance_count == floor(var.opensearch_instance_count) &&
      var.opensearch_instance_count >= 1 && var.opensearch_instance_count <= 30 &&
      (var.opensearch_instance_count == 1 || var.opensearch_instance_count % 2 == 0 || var.opensearch_instance_count % 3 == 0)
    )
    error_message = "opensearch_instance_count must be a whole number from 1 to 30 that is 1, even, or a multiple of 3 (so nodes spread evenly over 2 or 3 Availability Zones)."
  }
}

variable "opensearch_dedicated_master_count" {
  type        = number
  description = "Number of dedicated master nodes of the OpenSearch domain: 0 (none, the data nodes elect a master), 3 or 5."
  default     = 0

  validation {
    condition     = contains([0, 3, 5], var.opensearch_dedicated_master_count)
    error_message = "opensearch_dedicated_master_count must be 0, 3 or 5."
  }
}

variable "opensearch_dedicated_master_type" {
  type        = string
  description = "Instance type of the dedicated master nodes (used only when opensearch_dedicated_master_count > 0)."
  default     = "m6g.large.search"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+\\.search$", var.opensearch_dedicated_master_type))
    error_message = "opensearch_dedicated_master_type must be an OpenSearch instance type ending in .search, for example m6g.large.search."
  }
}

variable "opensearch_volume_size_gb" {
  type        = number
  description = "Size in GiB of the gp3 EBS volume of each OpenSearch data node (10 to 1024 here; the instance type may allow less)."
  default     = 20

  validation {
    condition     = var.opensearch_volume_size_gb == floor(var.opensearch_volume_size_gb) && var.opensearch_volume_size_gb >= 10 && var.opensearch_volume_size_gb <= 1024
    error_message = "opensearch_volume_size_gb must be a whole number of GiB from 10 to 1024."
  }
}

variable "opensearch_access_principal_arns" {
  type        = list(string)
  description = "IAM principals (role or user ARNs) allowed to call the OpenSearch HTTP API with SigV4. Empty: the account that runs Terraform."
  default     = []

  validation {
    condition     = alltrue([for arn in var.opensearch_access_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+)$", arn))])
    error_message = "opensearch_access_principal_arns must contain only IAM ARNs such as arn:aws:iam::111122223333:role/temporal-task."
  }
}

variable "opensearch_master_user_arn" {
  type        = string
  description = "IAM role or user ARN mapped to the fine-grained access control master user; null uses the identity that runs Terraform."
  default     = null

  validation {
    condition     = var.opensearch_master_user_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", var.opensearch_master_user_arn))
    error_message = "opensearch_master_user_arn must be null or an IAM role/user ARN such as arn:aws:iam::111122223333:role/admin."
  }
}

# --- Client VPN ----------------------------------------------------------------------------------------

variable "client_vpn_cidr" {
  type        = string
  description = "IPv4 range handed to VPN clients, /12 to /22, not overlapping vpc_cidr."
  default     = "10.254.0.0/22"

  validation {
    condition     = can(cidrhost(var.client_vpn_cidr, 0)) && try(tonumber(split("/", var.client_vpn_cidr)[1]) >= 12 && tonumber(split("/", var.client_vpn_cidr)[1]) <= 22, false)
    error_message = "client_vpn_cidr must be an IPv4 CIDR block with a prefix length from /12 to /22, for example 10.254.0.0/22."
  }
}

variable "client_vpn_server_certificate_arn" {
  type        = string
  description = "ACM ARN of the Client VPN server certificate (printed by `temporal-dsql-runtime certs print-acm-arns`)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.client_vpn_server_certificate_arn))
    error_message = "client_vpn_server_certificate_arn must be an ACM certificate ARN such as arn:aws:acm:eu-west-1:111122223333:certificate/<id>."
  }
}

variable "client_vpn_authentication_options" {
  type = list(object({
    type                       = string
    root_certificate_chain_arn = string
  }))
  description = "Client VPN authentication: one entry of type certificate-authentication with the ACM ARN of the client root CA (printed by `certs print-acm-arns`)."

  validation {
    condition     = length(var.client_vpn_authentication_options) == 1
    error_message = "client_vpn_authentication_options must hold exactly one entry (mutual certificate authentication)."
  }

  validation {
    condition = alltrue([
      for option in var.client_vpn_authentication_options :
      option.type == "certificate-authentication" &&
      can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", option.root_certificate_chain_arn))
    ])
    error_message = "client_vpn_authentication_options: each entry must have type = \"certificate-authentication\" and root_certificate_chain_arn set to an ACM certificate ARN."
  }
}

variable "client_vpn_subnet_count" {
  type        = number
  description = "How many private subnets (from the first) the Client VPN endpoint is associated with; each association is billed hourly."
  default     = 1

  validation {
    condition     = var.client_vpn_subnet_count == floor(var.client_vpn_subnet_count) && var.client_vpn_subnet_count >= 1 && var.client_vpn_subnet_count <= length(var.private_subnet_cidrs)
    error_message = "client_vpn_subnet_count must be a whole number from 1 to the number of private_subnet_cidrs."
  }
}

variable "client_vpn_session_timeout_hours" {
  type        = number
  description = "Maximum Client VPN session duration in hours."
  default     = 8

  validation {
    condition     = contains([8, 10, 12, 24], var.client_vpn_session_timeout_hours)
    error_message = "client_vpn_session_timeout_hours must be 8, 10, 12 or 24."
  }
}

# --- Temporal on ECS Fargate -----------------------------------------------------------------------------

variable "container_image" {
  type        = string
  description = "This project's image in Amazon ECR of aws_region (URI with a tag or @sha256 digest). null: no ECS cluster or services are created."
  default     = null

  validation {
    condition = var.container_image == null || can(regex(
      "^[0-9]{12}\\.dkr\\.ecr\\.${var.aws_region}\\.amazonaws\\.com/[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|@sha256:[0-9a-f]{64})$",
      var.container_image
    ))
    error_message = "container_image must be null or an ECR image URI in aws_region with a tag or digest, such as 111122223333.dkr.ecr.eu-west-1.amazonaws.com/temporal-dsql-runtime:1.0.0 (the VPC has no internet route, so the image is pulled through ECR's VPC endpoints)."
  }
}

variable "ecs_cpu_architecture" {
  type        = string
  description = "CPU architecture of the Fargate tasks; the image is built for both (scripts/build-temporal-dsql.sh ... arm64|amd64)."
  default     = "ARM64"

  validation {
    condition     = contains(["ARM64", "X86_64"], var.ecs_cpu_architecture)
    error_message = "ecs_cpu_architecture must be ARM64 or X86_64."
  }
}

variable "ecs_start_services" {
  type        = bool
  description = "Whether the four services run (desired count > 0). Apply with false first, run the schema task, then apply with true."
  default     = false
}

variable "ecs_services" {
  type = object({
    frontend = optional(object({
      cpu           = optional(number, 1024)
      memory        = optional(number, 2048)
      min_replicas  = optional(number, 2)
      max_replicas  = optional(number, 4)
      sql_max_conns = optional(number, 20)
    }), {})
    history = optional(object({
      cpu           = optional(number, 2048)
      memory        = optional(number, 4096)
      min_replicas  = optional(number, 3)
      max_replicas  = optional(number, 3)
      sql_max_conns = optional(number, 50)
    }), {})
    matching = optional(object({
      cpu           = optional(number, 1024)
      memory        = optional(number, 2048)
      min_replicas  = optional(number, 2)
      max_replicas  = optional(number, 4)
      sql_max_conns = optional(number, 20)
    }), {})
    worker = optional(object({
      cpu           = optional(number, 512)
      memory        = optional(number, 1024)
      min_replicas  = optional(number, 1)
      max_replicas  = optional(number, 1)
      sql_max_conns = optional(number, 10)
    }), {})
  })
  description = "Per Temporal role: Fargate cpu units and memory MiB, replicas (frontend and matching autoscale between min and max; history and worker run min = max), and the role's DSQL pool size (TEMPORAL_<ROLE>_SQL_MAX_CONNS)."
  default     = {}

  validation {
    condition     = alltrue([for role, s in var.ecs_services : contains([256, 512, 1024, 2048, 4096, 8192, 16384], s.cpu)])
    error_message = "ecs_services: cpu must be a Fargate size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }

  validation {
    condition = alltrue([
      for role, s in var.ecs_services : try(
        # cpu => [smallest memory, largest memory, step] as Fargate accepts them.
        s.memory >= local.fargate_memory[s.cpu][0] && s.memory <= local.fargate_memory[s.cpu][1] &&
        (s.memory - local.fargate_memory[s.cpu][0]) % local.fargate_memory[s.cpu][2] == 0,
        false
      )
    ])
    error_message = "ecs_services: memory must fit cpu as Fargate allows: 256 -> 512, 1024, 2048; 512 -> 1024-4096; 1024 -> 2048-8192; 2048 -> 4096-16384 (steps of 1024); 4096 -> 8192-30720 (1024); 8192 -> 16384-61440 (4096); 16384 -> 32768-122880 (8192)."
  }

  validation {
    condition = alltrue([
      for role, s in var.ecs_services :
      s.min_replicas == floor(s.min_replicas) && s.max_replicas == floor(s.max_replicas) &&
      s.min_replicas >= 1 && s.min_replicas <= s.max_replicas && s.max_replicas <= 100
    ])
    error_message = "ecs_services: min_replicas and max_replicas must be whole numbers with 1 <= min_replicas <= max_replicas <= 100."
  }

  validation {
    condition     = var.ecs_services.history.min_replicas == var.ecs_services.history.max_replicas && var.ecs_services.worker.min_replicas == var.ecs_services.worker.max_replicas
    error_message = "ecs_services: history and worker do not autoscale (history owns shards); give them min_replicas = max_replicas."
  }

  validation {
    condition     = alltrue([for role, s in var.ecs_services : s.sql_max_conns == floor(s.sql_max_conns) && s.sql_max_conns >= 1 && s.sql_max_conns <= 10000])
    error_message = "ecs_services: sql_max_conns must be a whole number from 1 to 10000 (TEMPORAL_<ROLE>_SQL_MAX_CONNS)."
  }
}

variable "ecs_autoscaling_cpu_target" {
  type        = number
  description = "Average CPU utilization (percent) the target-tracking policies of frontend and matching keep."
  default     = 60

  validation {
    condition     = var.ecs_autoscaling_cpu_target >= 10 && var.ecs_autoscaling_cpu_target <= 90
    error_message = "ecs_autoscaling_cpu_target must be a percentage from 10 to 90."
  }
}

variable "ecs_deployment_maximum_percent" {
  type        = number
  description = "How many tasks of a service a deployment may run at once, in percent of its count (100 to 200). Counted in the DSQL connection budget."
  default     = 200

  validation {
    condition     = var.ecs_deployment_maximum_percent == floor(var.ecs_deployment_maximum_percent) && var.ecs_deployment_maximum_percent > 100 && var.ecs_deployment_maximum_percent <= 200
    error_message = "ecs_deployment_maximum_percent must be a whole number from 101 to 200 (services keep 100% healthy during a deployment, so they need room above it)."
  }
}

variable "ecs_stop_timeout_seconds" {
  type        = number
  description = "Seconds ECS waits after SIGTERM before SIGKILL (stopTimeout). temporal-server gives its services up to 5 minutes to stop; Fargate allows at most 120."
  default     = 120

  validation {
    condition     = var.ecs_stop_timeout_seconds == floor(var.ecs_stop_timeout_seconds) && var.ecs_stop_timeout_seconds >= 2 && var.ecs_stop_timeout_seconds <= 120
    error_message = "ecs_stop_timeout_seconds must be a whole number of seconds from 2 to 120 (the Fargate maximum)."
  }
}

variable "history_shards" {
  type        = number
  description = "TEMPORAL_HISTORY_SHARDS: history shards of the Temporal cluster. Fixed for the cluster's life: changing it later needs a new database."
  default     = 512

  validation {
    condition     = var.history_shards == floor(var.history_shards) && var.history_shards >= 1 && var.history_shards <= 65536
    error_message = "history_shards must be a whole number from 1 to 65536."
  }
}

variable "dsql_cluster_connection_limit" {
  type        = number
  description = "The DSQL cluster's connection quota (10,000 unless AWS raised it for you). The services' connections are checked against it at plan time."
  default     = 10000

  validation {
    condition     = var.dsql_cluster_connection_limit == floor(var.dsql_cluster_connection_limit) && var.dsql_cluster_connection_limit >= 1
    error_message = "dsql_cluster_connection_limit must be a whole number of at least 1."
  }
}

variable "ecs_task_secret_arns" {
  type        = map(string)
  description = "The runtime's secret settings handed to every task from AWS Secrets Manager: setting name -> secret ARN. Empty (the default): none is used, DSQL and OpenSearch authenticate with the task role."
  default     = {}

  validation {
    condition = alltrue([
      for name, arn in var.ecs_task_secret_arns :
      contains(["TEMPORAL_SQL_PASSWORD", "TEMPORAL_OPENSEARCH_PASSWORD"], name) &&
      can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", arn))
    ])
    error_message = "ecs_task_secret_arns must map TEMPORAL_SQL_PASSWORD or TEMPORAL_OPENSEARCH_PASSWORD (the runtime's secret settings) to Secrets Manager secret ARNs such as arn:aws:secretsmanager:eu-west-1:111122223333:secret:temporal-opensearch-AbCdEf."
  }
}

variable "frontend_client_security_group_ids" {
  type        = list(string)
  description = "Security groups of Temporal clients (your workers and starters) allowed to reach the frontend on its gRPC port. The Client VPN is always allowed."
  default     = []

  validation {
    condition     = alltrue([for id in var.frontend_client_security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", id))])
    error_message = "frontend_client_security_group_ids must contain only security group ids such as sg-0123456789abcdef0."
  }
}

variable "frontend_client_cidrs" {
  type        = list(string)
  description = "IPv4 CIDR blocks of Temporal clients allowed to reach the frontend on its gRPC port. 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = alltrue([for cidr in var.frontend_client_cidrs : can(cidrhost(cidr, 0)) && try(tonumber(split("/", cidr)[1]) >= 8, false)])
    error_message = "frontend_client_cidrs must contain only IPv4 CIDR blocks with a prefix length of /8 or longer (0.0.0.0/0 is not allowed)."
  }
}

variable "service_discovery_namespace" {
  type        = string
  description = "Private DNS namespace (Cloud Map) of the services; the frontend is frontend.<namespace>:7233."
  default     = "temporal.internal"

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$", var.service_discovery_namespace))
    error_message = "service_discovery_namespace must be a DNS domain name such as temporal.internal."
  }
}
