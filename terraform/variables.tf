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
