# Private VPC: subnets across Availability Zones, no internet gateway, flow logs to CloudWatch, and
# the security groups that decide who may reach DSQL (5432) and OpenSearch (443).
#
# AWS Client VPN translates client addresses to the address of its network interface in the
# associated subnet, so traffic from VPN users arrives from the Client VPN security group, never
# from client_vpn_cidr. The rules below therefore name that security group as the VPN source.

locals {
  # The zones are named, not taken from whatever the Region lists: a zone AWS adds later never moves a subnet.
  availability_zone_names = coalesce(
    var.availability_zone_names,
    [for index in range(length(var.private_subnet_cidrs)) : "${var.aws_region}${substr("abcdef", index, 1)}"]
  )
}

data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }

  filter {
    name   = "zone-name"
    values = local.availability_zone_names
  }
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = local.name
  }
}

# The default security group allows nothing; every resource uses a named group below.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${local.name}-default-deny"
  }
}

resource "aws_subnet" "private" {
  count = length(var.private_subnet_cidrs)

  vpc_id                  = aws_vpc.this.id
  cidr_block              = var.private_subnet_cidrs[count.index]
  availability_zone       = local.availability_zone_names[count.index]
  map_public_ip_on_launch = false

  tags = {
    Name = "${local.name}-private-${local.availability_zone_names[count.index]}"
    Tier = "private"
  }

  lifecycle {
    precondition {
      condition     = contains(data.aws_availability_zones.available.names, local.availability_zone_names[count.index])
      error_message = "availability_zone_names: ${local.availability_zone_names[count.index]} is not an available, opted-in zone of ${var.aws_region}; list the Region's zones in availability_zone_names."
    }
  }
}

# --- VPC flow logs -------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/${local.name}/vpc-flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

data "aws_iam_policy_document" "flow_logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "flow_logs_write" {
  statement {
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = ["${aws_cloudwatch_log_group.flow_logs.arn}:*"]
  }
}

resource "aws_iam_role" "flow_logs" {
  name               = "${local.name}-vpc-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_assume.json
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs_write.json
}

resource "aws_flow_log" "this" {
  vpc_id          = aws_vpc.this.id
  traffic_type    = "ALL"
  log_destination = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn    = aws_iam_role.flow_logs.arn
}

# --- Security groups -----------------------------------------------------------------------------------

resource "aws_security_group" "client_vpn" {
  name        = "${local.name}-client-vpn"
  description = "Client VPN network interfaces: may open connections to DSQL (5432) and OpenSearch (443) only"
  vpc_id      = aws_vpc.this.id
}

resource "aws_security_group" "dsql_endpoint" {
  name        = "${local.name}-dsql-endpoint"
  description = "DSQL interface endpoint: PostgreSQL (5432) from the Client VPN and the Temporal tasks only"
  vpc_id      = aws_vpc.this.id
}

resource "aws_security_group" "opensearch" {
  name        = "${local.name}-opensearch"
  description = "OpenSearch domain: HTTPS (443) from the Client VPN and the Temporal tasks only"
  vpc_id      = aws_vpc.this.id
}

locals {
  # Each destination (DSQL endpoint 5432, OpenSearch 443) admits the same sources.
  protected_ports = {
    dsql       = { port = 5432, security_group_id = aws_security_group.dsql_endpoint.id, what = "PostgreSQL to the DSQL endpoint" }
    opensearch = { port = 443, security_group_id = aws_security_group.opensearch.id, what = "HTTPS to OpenSearch" }
  }

  task_security_group_rules = merge([
    for key, target in local.protected_ports : {
      for sg_id in var.temporal_task_security_group_ids : "${key}/${sg_id}" => merge(target, { source = sg_id })
    }
  ]...)

  task_cidr_rules = merge([
    for key, target in local.protected_ports : {
      for cidr in var.temporal_task_cidrs : "${key}/${cidr}" => merge(target, { source = cidr })
    }
  ]...)
}

resource "aws_vpc_security_group_egress_rule" "client_vpn_to_targets" {
  for_each = local.protected_ports

  security_group_id            = aws_security_group.client_vpn.id
  description                  = "${each.value.what} from VPN users"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = each.value.security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "from_client_vpn" {
  for_each = local.protected_ports

  security_group_id            = each.value.security_group_id
  description                  = "${each.value.what} from the Client VPN"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.client_vpn.id
}

resource "aws_vpc_security_group_ingress_rule" "from_task_security_groups" {
  for_each = local.task_security_group_rules

  security_group_id            = each.value.security_group_id
  description                  = "${each.value.what} from Temporal tasks (${each.value.source})"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = each.value.source
}

resource "aws_vpc_security_group_ingress_rule" "from_task_cidrs" {
  for_each = local.task_cidr_rules

  security_group_id = each.value.security_group_id
  description       = "${each.value.what} from Temporal tasks (${each.value.source})"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.source
}
