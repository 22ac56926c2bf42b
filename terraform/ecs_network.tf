# Network of the Temporal tasks: one security group for all four roles that admits their gRPC and
# membership ports only from itself (and the frontend's gRPC port from the Client VPN and the listed
# clients); the VPC endpoints a task in a VPC without internet route needs (ECR, S3 for image layers,
# CloudWatch Logs, Secrets Manager when secrets are named); and the frontend's stable address in a
# private Cloud Map namespace: frontend.<service_discovery_namespace>:7233.

locals {
  # Every port a role listens on, each admitted from the tasks' own security group.
  membership_rules = local.ecs_enabled ? merge([
    for role, ports in local.role_ports : {
      "${role}-grpc"       = { port = ports.grpc, what = "${role} gRPC" }
      "${role}-membership" = { port = ports.membership, what = "${role} membership" }
    }
  ]...) : {}

  frontend_client_rules = local.ecs_enabled ? merge(
    { "client-vpn" = { security_group_id = aws_security_group.client_vpn.id, cidr = null } },
    { for id in var.frontend_client_security_group_ids : id => { security_group_id = id, cidr = null } },
    { for cidr in var.frontend_client_cidrs : cidr => { security_group_id = null, cidr = cidr } },
  ) : {}

  # Interface endpoints the tasks reach on 443 (private DNS on, so the usual service names resolve to them).
  interface_endpoints = local.ecs_enabled ? toset(concat(
    ["ecr.api", "ecr.dkr", "logs"],
    length(var.ecs_task_secret_arns) > 0 ? ["secretsmanager"] : [],
  )) : toset([])
}

resource "aws_security_group" "ecs_tasks" {
  count = local.ecs_enabled ? 1 : 0

  name        = "${local.name}-ecs-tasks"
  description = "Temporal tasks: gRPC and membership among themselves, frontend gRPC from clients, out to DSQL, OpenSearch and VPC endpoints"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "ecs_tasks_from_each_other" {
  for_each = local.membership_rules

  security_group_id            = aws_security_group.ecs_tasks[0].id
  description                  = "${each.value.what} from the Temporal tasks"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.ecs_tasks[0].id
}

resource "aws_vpc_security_group_egress_rule" "ecs_tasks_to_each_other" {
  for_each = local.membership_rules

  security_group_id            = aws_security_group.ecs_tasks[0].id
  description                  = "${each.value.what} to the Temporal tasks"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.ecs_tasks[0].id
}

resource "aws_vpc_security_group_ingress_rule" "frontend_from_clients" {
  for_each = local.frontend_client_rules

  security_group_id            = aws_security_group.ecs_tasks[0].id
  description                  = "frontend gRPC from Temporal clients (${each.key})"
  ip_protocol                  = "tcp"
  from_port                    = local.role_ports.frontend.grpc
  to_port                      = local.role_ports.frontend.grpc
  referenced_security_group_id = each.value.security_group_id
  cidr_ipv4                    = each.value.cidr
}

resource "aws_vpc_security_group_egress_rule" "client_vpn_to_frontend" {
  count = local.ecs_enabled ? 1 : 0

  security_group_id            = aws_security_group.client_vpn.id
  description                  = "frontend gRPC from VPN users"
  ip_protocol                  = "tcp"
  from_port                    = local.role_ports.frontend.grpc
  to_port                      = local.role_ports.frontend.grpc
  referenced_security_group_id = aws_security_group.ecs_tasks[0].id
}

# DSQL (5432) and OpenSearch (443): out of the tasks' group, into the targets' groups.
resource "aws_vpc_security_group_egress_rule" "ecs_tasks_to_targets" {
  for_each = local.ecs_enabled ? local.protected_ports : {}

  security_group_id            = aws_security_group.ecs_tasks[0].id
  description                  = each.value.what
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = each.value.security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "from_ecs_tasks" {
  for_each = local.ecs_enabled ? local.protected_ports : {}

  security_group_id            = each.value.security_group_id
  description                  = "${each.value.what} from the Temporal ECS tasks"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.ecs_tasks[0].id
}

# --- VPC endpoints for image pull, logs and secrets -----------------------------------------------------

resource "aws_security_group" "vpc_endpoints" {
  count = local.ecs_enabled ? 1 : 0

  name        = "${local.name}-vpc-endpoints"
  description = "Interface endpoints of ECR, CloudWatch Logs and Secrets Manager: HTTPS (443) from the Temporal tasks only"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "vpc_endpoints_from_ecs_tasks" {
  count = local.ecs_enabled ? 1 : 0

  security_group_id            = aws_security_group.vpc_endpoints[0].id
  description                  = "HTTPS to AWS APIs from the Temporal tasks"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.ecs_tasks[0].id
}

resource "aws_vpc_security_group_egress_rule" "ecs_tasks_to_vpc_endpoints" {
  count = local.ecs_enabled ? 1 : 0

  security_group_id            = aws_security_group.ecs_tasks[0].id
  description                  = "HTTPS to the ECR, Logs and Secrets Manager endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.vpc_endpoints[0].id
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.interface_endpoints

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = aws_security_group.vpc_endpoints[*].id
  private_dns_enabled = true

  tags = {
    Name = "${local.name}-${each.key}"
  }
}

# ECR keeps image layers in S3: a gateway endpoint on the VPC's main route table.
resource "aws_vpc_endpoint" "s3" {
  count = local.ecs_enabled ? 1 : 0

  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_vpc.this.main_route_table_id]

  tags = {
    Name = "${local.name}-s3"
  }
}

resource "aws_vpc_security_group_egress_rule" "ecs_tasks_to_s3" {
  count = local.ecs_enabled ? 1 : 0

  security_group_id = aws_security_group.ecs_tasks[0].id
  description       = "HTTPS to S3 through the gateway endpoint (ECR image layers)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3[0].prefix_list_id
}

# --- The frontend's stable address ----------------------------------------------------------------------

resource "aws_service_discovery_private_dns_namespace" "this" {
  count = local.ecs_enabled ? 1 : 0

  name        = var.service_discovery_namespace
  description = "${local.name}: Temporal frontend address"
  vpc         = aws_vpc.this.id
}

# One A record per running frontend task; ECS registers a task once it runs and removes it when it stops.
resource "aws_service_discovery_service" "frontend" {
  count = local.ecs_enabled ? 1 : 0

  name = "frontend"

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.this[0].id
    routing_policy = "MULTIVALUE"

    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  health_check_custom_config {}
}
