# Aurora DSQL cluster and the interface VPC endpoint that reaches it from inside the VPC (and from
# Client VPN users). The public endpoint <identifier>.dsql.<region>.on.aws stays usable with IAM auth.

resource "aws_dsql_cluster" "this" {
  deletion_protection_enabled = var.dsql_deletion_protection
  kms_encryption_key          = coalesce(var.dsql_kms_key_arn, "AWS_OWNED_KMS_KEY")

  tags = {
    Name = local.name
  }
}

resource "aws_vpc_endpoint" "dsql" {
  vpc_id              = aws_vpc.this.id
  service_name        = aws_dsql_cluster.this.vpc_endpoint_service_name
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.dsql_endpoint.id]
  private_dns_enabled = var.dsql_vpc_endpoint_private_dns_enabled

  tags = {
    Name = "${local.name}-dsql"
  }
}

locals {
  # The cluster's public PostgreSQL host name; also the name its TLS certificate is issued for.
  dsql_public_endpoint = "${aws_dsql_cluster.this.identifier}.dsql.${local.region}.on.aws"
}
