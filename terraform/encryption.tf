# One customer managed KMS key for everything this module stores: CloudWatch log groups and the
# OpenSearch domain's data at rest. Rotation is on; the key policy names who may use it.

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means "this key"; the account root statement is required so IAM policies can grant use of the key.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means "this key"; write access is limited to this account's root principal and the CloudWatch Logs service.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means "this key", not every resource in the account.
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogsOfThisAccount"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/${local.name}/*"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${local.name}: CloudWatch logs and OpenSearch data at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.this.key_id
}
