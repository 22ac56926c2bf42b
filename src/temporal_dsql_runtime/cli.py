"""The `temporal-dsql-runtime` command: a thin shell whose subcommands load only when called."""

from __future__ import annotations

import importlib

import click

SUBCOMMANDS = {
    "start": "temporal_dsql_runtime.commands.start:start",
    "render": "temporal_dsql_runtime.commands.render:render",
    "variables": "temporal_dsql_runtime.commands.variables:variables",
    "token": "temporal_dsql_runtime.commands.token:token",
    "doctor": "temporal_dsql_runtime.commands.doctor:doctor",
    "schema": "temporal_dsql_runtime.commands.schema:schema",
    "healthcheck": "temporal_dsql_runtime.commands.healthcheck:healthcheck",
    "namespace": "temporal_dsql_runtime.commands.namespace:namespace",
    "certs": "temporal_dsql_runtime.commands.certs:certs",
    "tf-to-env": "temporal_dsql_runtime.commands.tf_to_env:tf_to_env",
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Run Temporal on Aurora DSQL: render configs, start services, check connectivity, manage schema."""


def main() -> None:
    """Run the click group (`entrypoint.main` calls this for every subcommand but `token`)."""
    cli.main(prog_name="temporal-dsql-runtime")


def render_main() -> None:
    """Console entry point of `temporal-dsql-render`."""
    from .commands.render import render

    render.main(prog_name="temporal-dsql-render")
