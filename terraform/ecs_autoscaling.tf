# Target tracking for frontend and matching: keep their average CPU at ecs_autoscaling_cpu_target
# between min_replicas and max_replicas. History and worker run a fixed count.

resource "aws_appautoscaling_target" "ecs" {
  for_each = local.autoscaled_roles

  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.this[0].name}/${aws_ecs_service.autoscaled[each.key].name}"
  min_capacity       = var.ecs_start_services ? var.ecs_services[each.key].min_replicas : 0
  max_capacity       = var.ecs_start_services ? var.ecs_services[each.key].max_replicas : 0
}

resource "aws_appautoscaling_policy" "ecs_cpu" {
  for_each = local.autoscaled_roles

  name               = "${local.name}-${each.key}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.ecs[each.key].service_namespace
  scalable_dimension = aws_appautoscaling_target.ecs[each.key].scalable_dimension
  resource_id        = aws_appautoscaling_target.ecs[each.key].resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.ecs_autoscaling_cpu_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
