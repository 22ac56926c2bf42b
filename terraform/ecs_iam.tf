# IAM of the Temporal tasks. The task role (what Temporal itself may do) may connect to this DSQL
# cluster as admin (the dsql plugin signs DbConnectAdmin tokens) and call this OpenSearch domain's
# HTTP API, nothing else. The execution role (what ECS does for the task) may pull this image, write
# this log group and read the named secrets, nothing else.

locals {
  # 111122223333.dkr.ecr.eu-west-1.amazonaws.com/name:tag -> the repository's ARN.
  container_repository_arn = local.ecs_enabled ? format(
    "arn:%s:ecr:%s:%s:repository/%s",
    local.partition,
    local.region,
    split(".", var.container_image)[0],
    regex("^[^/]+/([^:@]+)", var.container_image)[0]
  ) : null
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# --- Task role -------------------------------------------------------------------------------------------

resource "aws_iam_role" "ecs_task" {
  count = local.ecs_enabled ? 1 : 0

  name               = "${local.name}-ecs-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "ecs_task" {
  count = local.ecs_enabled ? 1 : 0

  statement {
    sid       = "DsqlConnectAsAdmin"
    actions   = ["dsql:DbConnectAdmin"]
    resources = [aws_dsql_cluster.this.arn]
  }

  statement {
    sid       = "OpenSearchVisibility"
    actions   = ["es:ESHttp*"]
    resources = [aws_opensearch_domain.this.arn, "${aws_opensearch_domain.this.arn}/*"]
  }
}

resource "aws_iam_role_policy" "ecs_task" {
  count = local.ecs_enabled ? 1 : 0

  name   = "dsql-and-opensearch"
  role   = aws_iam_role.ecs_task[0].id
  policy = data.aws_iam_policy_document.ecs_task[0].json
}

# --- Execution role --------------------------------------------------------------------------------------

resource "aws_iam_role" "ecs_execution" {
  count = local.ecs_enabled ? 1 : 0

  name               = "${local.name}-ecs-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "ecs_execution" {
  count = local.ecs_enabled ? 1 : 0

  statement {
    #checkov:skip=CKV_AWS_356:ecr:GetAuthorizationToken has no resource-level permissions; AWS requires Resource "*" for it.
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullThisImage"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [local.container_repository_arn]
  }

  statement {
    sid       = "WriteTaskLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for group in aws_cloudwatch_log_group.ecs : "${group.arn}:*"]
  }

  dynamic "statement" {
    for_each = length(var.ecs_task_secret_arns) > 0 ? [sort(distinct(values(var.ecs_task_secret_arns)))] : []

    content {
      sid       = "ReadNamedSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = statement.value
    }
  }
}

resource "aws_iam_role_policy" "ecs_execution" {
  count = local.ecs_enabled ? 1 : 0

  name   = "pull-log-secrets"
  role   = aws_iam_role.ecs_execution[0].id
  policy = data.aws_iam_policy_document.ecs_execution[0].json
}
