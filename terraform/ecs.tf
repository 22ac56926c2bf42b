# Temporal on ECS Fargate: one cluster, one service per role (frontend, history, matching, worker) from
# this project's image with TEMPORAL_SERVICES set per role, and a one-off task definition that runs
# `temporal-dsql-runtime schema setup`. Created only when container_image is set.
#
# Each task's environment comes from modules/runtime_settings: the setting names `tf-to-env` writes
# plus the cluster's shape. Broadcast addresses need no setting: the launcher reads the task's
# address from the ECS task metadata endpoint. The root filesystem is read-only; the launcher writes
# only to TEMPORAL_RUNTIME_DIR, a task-scoped ephemeral volume (Fargate has no tmpfs).

locals {
  ecs_enabled = var.container_image != null
  roles       = local.ecs_enabled ? toset(["frontend", "history", "matching", "worker"]) : toset([])

  # Frontend and matching scale with load; history owns shards and worker is a single system role.
  autoscaled_roles = local.ecs_enabled ? toset(["frontend", "matching"]) : toset([])
  fixed_roles      = local.ecs_enabled ? toset(["history", "worker"]) : toset([])

  # The runtime's default ports (`temporal-dsql-runtime variables`): gRPC and membership per role.
  role_ports = {
    frontend = { grpc = 7233, membership = 6933 }
    history  = { grpc = 7234, membership = 6934 }
    matching = { grpc = 7235, membership = 6935 }
    worker   = { grpc = 7239, membership = 6939 }
  }

  runtime_dir = "/run/temporal-dsql-runtime"

  # Fargate cpu units => [smallest memory MiB, largest memory MiB, step].
  fargate_memory = {
    256   = [512, 2048, 512]
    512   = [1024, 4096, 1024]
    1024  = [2048, 8192, 1024]
    2048  = [4096, 16384, 1024]
    4096  = [8192, 30720, 1024]
    8192  = [16384, 61440, 4096]
    16384 = [32768, 122880, 8192]
  }

  ecs_log_group_name = "/${local.name}/ecs"
}

module "runtime_settings" {
  source = "./modules/runtime_settings"

  region                        = local.region
  dsql_public_endpoint          = local.dsql_public_endpoint
  dsql_vpc_endpoint_dns_entries = aws_vpc_endpoint.dsql.dns_entry
  opensearch_domain_endpoint    = "https://${aws_opensearch_domain.this.endpoint}"
  history_shards                = var.history_shards
  runtime_dir                   = local.runtime_dir
  dsql_cluster_connection_limit = var.dsql_cluster_connection_limit

  # The most tasks of a role that can run at once: its largest count, times a deployment's surge.
  services = {
    for role, service in var.ecs_services : role => {
      max_tasks     = ceil(service.max_replicas * var.ecs_deployment_maximum_percent / 100)
      sql_max_conns = service.sql_max_conns
    }
  }
}

resource "aws_cloudwatch_log_group" "ecs" {
  count = local.ecs_enabled ? 1 : 0

  name              = local.ecs_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_ecs_cluster" "this" {
  count = local.ecs_enabled ? 1 : 0

  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

locals {
  # One container definition per role, and the schema task's: same image, user, volume and logs.
  container_base = {
    image                  = var.container_image
    essential              = true
    user                   = "1000:1000"
    readonlyRootFilesystem = true
    secrets                = [for name in sort(keys(var.ecs_task_secret_arns)) : { name = name, valueFrom = var.ecs_task_secret_arns[name] }]
    mountPoints            = [{ sourceVolume = "runtime", containerPath = local.runtime_dir, readOnly = false }]
    stopTimeout            = var.ecs_stop_timeout_seconds
  }

  container_definitions = {
    for role in local.roles : role => merge(local.container_base, {
      name = role
      environment = [
        for name in sort(keys(module.runtime_settings.environment[role])) :
        { name = name, value = module.runtime_settings.environment[role][name] }
      ]
      portMappings = [
        { name = "${role}-grpc", containerPort = local.role_ports[role].grpc, protocol = "tcp" },
        { name = "${role}-membership", containerPort = local.role_ports[role].membership, protocol = "tcp" },
      ]
      # gRPC health of the role (the image's own HEALTHCHECK command).
      healthCheck = {
        command     = ["CMD", "temporal-dsql-runtime", "healthcheck", "--timeout", "3"]
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = 120
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = local.ecs_log_group_name
          awslogs-region        = local.region
          awslogs-stream-prefix = role
        }
      }
    })
  }
}

resource "aws_ecs_task_definition" "role" {
  for_each = local.roles

  family                   = "${local.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.ecs_services[each.key].cpu
  memory                   = var.ecs_services[each.key].memory
  execution_role_arn       = aws_iam_role.ecs_execution[0].arn
  task_role_arn            = aws_iam_role.ecs_task[0].arn
  container_definitions    = jsonencode([local.container_definitions[each.key]])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.ecs_cpu_architecture
  }

  # A bind mount without a host path: task-scoped ephemeral storage, gone when the task stops.
  volume {
    name = "runtime"
  }

  depends_on = [aws_cloudwatch_log_group.ecs]
}

# `aws ecs run-task` this once before starting the services (see the schema_setup_run_task output).
resource "aws_ecs_task_definition" "schema_setup" {
  count = local.ecs_enabled ? 1 : 0

  family                   = "${local.name}-schema-setup"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  execution_role_arn       = aws_iam_role.ecs_execution[0].arn
  task_role_arn            = aws_iam_role.ecs_task[0].arn
  container_definitions = jsonencode([merge(local.container_base, {
    name       = "schema-setup"
    entryPoint = ["temporal-dsql-runtime"]
    command    = ["schema", "setup"]
    environment = [
      for name in sort(keys(module.runtime_settings.schema_environment)) :
      { name = name, value = module.runtime_settings.schema_environment[name] }
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.ecs_log_group_name
        awslogs-region        = local.region
        awslogs-stream-prefix = "schema-setup"
      }
    }
  })])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.ecs_cpu_architecture
  }

  volume {
    name = "runtime"
  }

  depends_on = [aws_cloudwatch_log_group.ecs]
}

locals {
  service_network = {
    subnets          = aws_subnet.private[*].id
    security_groups  = aws_security_group.ecs_tasks[*].id
    assign_public_ip = false
  }
}

# Frontend and matching: the count belongs to autoscaling once created (desired_count is ignored).
resource "aws_ecs_service" "autoscaled" {
  for_each = local.autoscaled_roles

  name                               = each.key
  cluster                            = aws_ecs_cluster.this[0].id
  task_definition                    = aws_ecs_task_definition.role[each.key].arn
  desired_count                      = var.ecs_start_services ? var.ecs_services[each.key].min_replicas : 0
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = var.ecs_deployment_maximum_percent
  propagate_tags                     = "SERVICE"
  enable_ecs_managed_tags            = true

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = local.service_network.subnets
    security_groups  = local.service_network.security_groups
    assign_public_ip = local.service_network.assign_public_ip
  }

  # The frontend's stable address: frontend.<service_discovery_namespace> (see ecs_network.tf).
  dynamic "service_registries" {
    for_each = each.key == "frontend" ? aws_service_discovery_service.frontend[*].arn : []

    content {
      registry_arn = service_registries.value
    }
  }

  lifecycle {
    ignore_changes = [desired_count]
  }
}

# History and worker: a fixed count (history owns shards; moving them on every scaling step costs).
resource "aws_ecs_service" "fixed" {
  for_each = local.fixed_roles

  name                               = each.key
  cluster                            = aws_ecs_cluster.this[0].id
  task_definition                    = aws_ecs_task_definition.role[each.key].arn
  desired_count                      = var.ecs_start_services ? var.ecs_services[each.key].min_replicas : 0
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = var.ecs_deployment_maximum_percent
  propagate_tags                     = "SERVICE"
  enable_ecs_managed_tags            = true

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = local.service_network.subnets
    security_groups  = local.service_network.security_groups
    assign_public_ip = local.service_network.assign_public_ip
  }
}
