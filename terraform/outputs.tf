# Outputs. `temporal-dsql-runtime tf-to-env` reads region, dsql_cluster_identifier,
# dsql_public_endpoint, dsql_vpc_endpoint_dns_entries and opensearch_domain_endpoint.

output "region" {
  description = "AWS Region the stack runs in."
  value       = local.region
}

output "project_name" {
  description = "Name prefix of every resource in the stack."
  value       = local.name
}

output "vpc_id" {
  description = "ID of the private VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, one per Availability Zone, in the order of private_subnet_cidrs."
  value       = aws_subnet.private[*].id
}

output "dsql_cluster_identifier" {
  description = "Identifier of the Aurora DSQL cluster."
  value       = aws_dsql_cluster.this.identifier
}

output "dsql_cluster_arn" {
  description = "ARN of the Aurora DSQL cluster (grant dsql:DbConnectAdmin / dsql:DbConnect on it)."
  value       = aws_dsql_cluster.this.arn
}

output "dsql_public_endpoint" {
  description = "Public PostgreSQL host name of the DSQL cluster (<identifier>.dsql.<region>.on.aws); the host DSQL tokens are signed for."
  value       = local.dsql_public_endpoint
}

output "dsql_vpc_endpoint_service_name" {
  description = "PrivateLink service name of the DSQL cluster (com.amazonaws.<region>.dsql-xxxx)."
  value       = aws_dsql_cluster.this.vpc_endpoint_service_name
}

output "dsql_vpc_endpoint_id" {
  description = "ID of the interface VPC endpoint that reaches the DSQL cluster."
  value       = aws_vpc_endpoint.dsql.id
}

output "dsql_vpc_endpoint_dns_entries" {
  description = "DNS entries (dns_name, hosted_zone_id) of the DSQL interface endpoint; the first is the Regional name."
  value       = aws_vpc_endpoint.dsql.dns_entry
}

output "opensearch_domain_name" {
  description = "Name of the OpenSearch visibility domain."
  value       = aws_opensearch_domain.this.domain_name
}

output "opensearch_domain_arn" {
  description = "ARN of the OpenSearch visibility domain."
  value       = aws_opensearch_domain.this.arn
}

output "opensearch_domain_endpoint" {
  description = "HTTPS URL of the OpenSearch visibility domain (reachable from the VPC and the Client VPN)."
  value       = "https://${aws_opensearch_domain.this.endpoint}"
}

output "client_vpn_endpoint_id" {
  description = "ID of the Client VPN endpoint (aws ec2 export-client-vpn-client-configuration --client-vpn-endpoint-id ...)."
  value       = aws_ec2_client_vpn_endpoint.this.id
}

output "client_vpn_endpoint_dns_name" {
  description = "DNS name VPN clients connect to."
  value       = aws_ec2_client_vpn_endpoint.this.dns_name
}

output "client_vpn_security_group_id" {
  description = "Security group of the Client VPN network interfaces (the source DSQL and OpenSearch admit)."
  value       = aws_security_group.client_vpn.id
}

output "dsql_endpoint_security_group_id" {
  description = "Security group of the DSQL interface endpoint (ingress 5432)."
  value       = aws_security_group.dsql_endpoint.id
}

output "opensearch_security_group_id" {
  description = "Security group of the OpenSearch domain (ingress 443)."
  value       = aws_security_group.opensearch.id
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the log groups and the OpenSearch domain."
  value       = aws_kms_key.this.arn
}

# --- Temporal on ECS (null or empty while container_image is null) -------------------------------------

output "temporal_frontend_address" {
  description = "Where Temporal clients connect (plain gRPC inside the VPC and over the Client VPN): frontend.<service_discovery_namespace>:7233."
  value       = local.ecs_enabled ? "frontend.${var.service_discovery_namespace}:${local.role_ports.frontend.grpc}" : null
}

output "ecs_cluster_name" {
  description = "Name of the ECS cluster that runs the four Temporal services."
  value       = one(aws_ecs_cluster.this[*].name)
}

output "ecs_task_role_arn" {
  description = "IAM role of the Temporal tasks (map it to an OpenSearch fine-grained access role that may write the visibility index)."
  value       = one(aws_iam_role.ecs_task[*].arn)
}

output "ecs_tasks_security_group_id" {
  description = "Security group of the Temporal tasks."
  value       = one(aws_security_group.ecs_tasks[*].id)
}

output "dsql_connections" {
  description = "The most DSQL connections the services can hold, per role and in total (checked against dsql_cluster_connection_limit at plan time)."
  value       = module.runtime_settings.dsql_connections
}

output "schema_setup_run_task" {
  description = "The AWS CLI command that runs `temporal-dsql-runtime schema setup` once in the VPC (before ecs_start_services = true)."
  value = local.ecs_enabled ? join(" ", [
    "aws ecs run-task --region ${local.region} --cluster ${aws_ecs_cluster.this[0].name}",
    "--launch-type FARGATE --task-definition ${aws_ecs_task_definition.schema_setup[0].arn}",
    "--network-configuration 'awsvpcConfiguration={subnets=[${join(",", aws_subnet.private[*].id)}],securityGroups=[${aws_security_group.ecs_tasks[0].id}],assignPublicIp=DISABLED}'",
  ]) : null
}
