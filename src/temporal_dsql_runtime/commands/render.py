"""`temporal-dsql-render`: show, check or write the config each service would get."""

from __future__ import annotations

from pathlib import Path

import click

from ..addresses import discover_broadcast_address
from ..cli_support import env_file_option, process_environment, reports_user_errors
from ..explain import explain_lines
from ..launcher import write_private_file
from ..loading import settings_from, warnings
from ..render import RenderRequest, render_config
from ..resolve import resolve_credentials
from ..settings import SERVICES
from ..sources import collect


@click.command()
@click.option("--service", "services", multiple=True, type=click.Choice(SERVICES), help="Repeatable.")
@click.option("--dry-run", is_flag=True, help="Print the YAML (secrets redacted) instead of writing files.")
@click.option(
    "--output-dir", type=click.Path(path_type=Path, file_okay=False), help="Write DIR/<service>.yaml."
)
@click.option("--check", is_flag=True, help="Validate the settings only.")
@click.option("--explain", is_flag=True, help="Show each setting's value and where it came from.")
@env_file_option
@reports_user_errors
def render(
    services: tuple[str, ...],
    dry_run: bool,
    output_dir: Path | None,
    check: bool,
    explain: bool,
    env_file: Path | None,
) -> None:
    """Render one Temporal server config per service from the environment."""
    environment = process_environment()
    if explain:
        click.echo("\n".join(explain_lines(collect(environment, env_file))))
        return
    collected = collect(environment, env_file)
    settings = settings_from(collected)
    for warning in warnings(collected, settings):
        click.echo(f"warning: {warning}", err=True)
    if check:
        click.echo("settings are valid", err=True)
        return
    if output_dir is None and not dry_run:
        raise click.UsageError("give --dry-run to print, or --output-dir DIR to write files")
    address = discover_broadcast_address(settings).address
    credentials = resolve_credentials(settings, mint_tokens=not dry_run)
    if dry_run:
        credentials = credentials.redacted()
    rendered = {
        service: render_config(
            settings, RenderRequest(services=(service,), broadcast_address=address, credentials=credentials)
        )
        for service in services or settings.services
    }
    if output_dir is None or dry_run:
        click.echo("---\n".join(f"# service: {name}\n{text}" for name, text in rendered.items()), nl=False)
        return
    for name, text in rendered.items():
        write_private_file(output_dir / f"{name}.yaml", text, "--output-dir")
        click.echo(f"wrote {output_dir / f'{name}.yaml'}", err=True)
