# AWS Client VPN: mutual certificate authentication (server and client-root certificates imported
# into ACM by `temporal-dsql-runtime certs`), split tunnel so only VPC traffic goes through the VPN,
# connection logging to CloudWatch, and access to the VPC range only.

resource "aws_cloudwatch_log_group" "client_vpn" {
  name              = "/${local.name}/client-vpn"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_cloudwatch_log_stream" "client_vpn" {
  name           = "connections"
  log_group_name = aws_cloudwatch_log_group.client_vpn.name
}

resource "aws_ec2_client_vpn_endpoint" "this" {
  description            = "${local.name} Client VPN"
  server_certificate_arn = var.client_vpn_server_certificate_arn
  client_cidr_block      = var.client_vpn_cidr
  split_tunnel           = true
  transport_protocol     = "udp"
  session_timeout_hours  = var.client_vpn_session_timeout_hours
  self_service_portal    = "disabled"
  vpc_id                 = aws_vpc.this.id
  security_group_ids     = [aws_security_group.client_vpn.id]
  # The VPC resolver, so VPN users resolve the VPC endpoint and OpenSearch names to private addresses.
  dns_servers = [cidrhost(var.vpc_cidr, 2)]

  dynamic "authentication_options" {
    for_each = var.client_vpn_authentication_options

    content {
      type                       = authentication_options.value.type
      root_certificate_chain_arn = authentication_options.value.root_certificate_chain_arn
    }
  }

  connection_log_options {
    enabled               = true
    cloudwatch_log_group  = aws_cloudwatch_log_group.client_vpn.name
    cloudwatch_log_stream = aws_cloudwatch_log_stream.client_vpn.name
  }

  tags = {
    Name = "${local.name}-client-vpn"
  }
}

resource "aws_ec2_client_vpn_network_association" "private" {
  count = var.client_vpn_subnet_count

  client_vpn_endpoint_id = aws_ec2_client_vpn_endpoint.this.id
  subnet_id              = aws_subnet.private[count.index].id
}

resource "aws_ec2_client_vpn_authorization_rule" "vpc" {
  client_vpn_endpoint_id = aws_ec2_client_vpn_endpoint.this.id
  target_network_cidr    = aws_vpc.this.cidr_block
  authorize_all_groups   = true
  description            = "Certificate-authenticated users may reach the VPC range (security groups narrow it to 5432 and 443)"
}
