# OpenSearch domain for Temporal visibility: inside the VPC, encrypted at rest (KMS key of this module)
# and between nodes, HTTPS only with TLS 1.2+, fine-grained access control mapped to IAM, SigV4 access
# for the listed principals, and every log type published to CloudWatch.

locals {
  opensearch_domain_name = "${local.name}-visibility"

  # One node: one AZ. Otherwise spread over 3 AZs when the count allows it and there are 3 subnets, else 2.
  opensearch_zone_count = (
    var.opensearch_instance_count == 1 ? 1 :
    var.opensearch_instance_count % 3 == 0 && length(var.private_subnet_cidrs) >= 3 ? 3 : 2
  )

  opensearch_access_principals = (
    length(var.opensearch_access_principal_arns) > 0
    ? var.opensearch_access_principal_arns
    : ["arn:${local.partition}:iam::${local.account_id}:root"]
  )

  opensearch_log_groups = toset(["application", "index-slow", "search-slow", "audit"])
}

data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

resource "aws_cloudwatch_log_group" "opensearch" {
  for_each = local.opensearch_log_groups

  name              = "/${local.name}/opensearch/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

data "aws_iam_policy_document" "opensearch_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for group in aws_cloudwatch_log_group.opensearch : "${group.arn}:*"]

    principals {
      type        = "Service"
      identifiers = ["es.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "opensearch" {
  policy_name     = "${local.name}-opensearch-logs"
  policy_document = data.aws_iam_policy_document.opensearch_logs.json
}

data "aws_iam_policy_document" "opensearch_access" {
  statement {
    actions   = ["es:ESHttp*"]
    resources = ["arn:${local.partition}:es:${local.region}:${local.account_id}:domain/${local.opensearch_domain_name}/*"]

    principals {
      type        = "AWS"
      identifiers = local.opensearch_access_principals
    }
  }
}

resource "aws_opensearch_domain" "this" {
  #checkov:skip=CKV2_AWS_59:Dedicated master nodes are a variable (opensearch_dedicated_master_count); the test-environment default of 0 keeps cost down, set 3 for production.
  #checkov:skip=CKV_AWS_318:Same as CKV2_AWS_59: dedicated masters are opt-in through opensearch_dedicated_master_count.
  domain_name     = local.opensearch_domain_name
  engine_version  = var.opensearch_engine_version
  access_policies = data.aws_iam_policy_document.opensearch_access.json

  cluster_config {
    instance_type            = var.opensearch_instance_type
    instance_count           = var.opensearch_instance_count
    dedicated_master_enabled = var.opensearch_dedicated_master_count > 0
    dedicated_master_count   = var.opensearch_dedicated_master_count > 0 ? var.opensearch_dedicated_master_count : null
    dedicated_master_type    = var.opensearch_dedicated_master_count > 0 ? var.opensearch_dedicated_master_type : null
    zone_awareness_enabled   = local.opensearch_zone_count > 1

    dynamic "zone_awareness_config" {
      for_each = local.opensearch_zone_count > 1 ? [local.opensearch_zone_count] : []

      content {
        availability_zone_count = zone_awareness_config.value
      }
    }
  }

  ebs_options {
    ebs_enabled = true
    volume_type = "gp3"
    volume_size = var.opensearch_volume_size_gb
  }

  vpc_options {
    subnet_ids         = slice(aws_subnet.private[*].id, 0, local.opensearch_zone_count)
    security_group_ids = [aws_security_group.opensearch.id]
  }

  encrypt_at_rest {
    enabled    = true
    kms_key_id = aws_kms_key.this.arn
  }

  node_to_node_encryption {
    enabled = true
  }

  domain_endpoint_options {
    enforce_https       = true
    tls_security_policy = "Policy-Min-TLS-1-2-2019-07"
  }

  advanced_security_options {
    enabled                        = true
    anonymous_auth_enabled         = false
    internal_user_database_enabled = false

    master_user_options {
      master_user_arn = coalesce(var.opensearch_master_user_arn, data.aws_iam_session_context.current.issuer_arn)
    }
  }

  log_publishing_options {
    log_type                 = "ES_APPLICATION_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.opensearch["application"].arn
    enabled                  = true
  }

  log_publishing_options {
    log_type                 = "INDEX_SLOW_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.opensearch["index-slow"].arn
    enabled                  = true
  }

  log_publishing_options {
    log_type                 = "SEARCH_SLOW_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.opensearch["search-slow"].arn
    enabled                  = true
  }

  log_publishing_options {
    log_type                 = "AUDIT_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.opensearch["audit"].arn
    enabled                  = true
  }

  depends_on = [aws_cloudwatch_log_resource_policy.opensearch]

  tags = {
    Name = local.opensearch_domain_name
  }
}
