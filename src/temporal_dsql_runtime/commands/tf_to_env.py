"""`tf-to-env`: write the runtime's .env from the outputs of terraform/."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import tf_to_env as outputs_to_env
from ..cli_support import reports_user_errors


@click.command("tf-to-env")
@click.option(
    "--file",
    "input_file",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    default=None,
    help="`terraform output -json` saved to a file; `-` reads stdin.",
)
@click.option(
    "--terraform-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Run `terraform output -json` in this directory instead.",
)
@click.option(
    "--endpoint",
    type=click.Choice([choice.value for choice in outputs_to_env.Endpoint]),
    default=outputs_to_env.Endpoint.PUBLIC.value,
    show_default=True,
    help="DSQL endpoint: the cluster's public one; vpc: the interface endpoint's own DNS name (no private DNS "
    "needed; cluster named by amzn-cluster-id); private-dns: <cluster-id>.<service id>.<region>.on.aws "
    "(needs the endpoint's private DNS).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the .env here (mode 0600, atomically). Default: stdout.",
)
@reports_user_errors
def tf_to_env(
    input_file: Path | None, terraform_dir: Path | None, endpoint: str, output: Path | None
) -> None:
    """Turn `terraform output -json` into a .env with the settings this runtime reads."""
    text, source = _read_outputs(input_file, terraform_dir)
    choice = outputs_to_env.Endpoint(endpoint)
    settings = outputs_to_env.settings_from_outputs(outputs_to_env.parse_outputs(text, source), choice)
    env_text = outputs_to_env.render_env(settings, choice)
    if output is None:
        click.echo(env_text, nl=False)
    else:
        outputs_to_env.write_env_file(output, env_text)
        click.echo(f"wrote {output}", err=True)


def _read_outputs(input_file: Path | None, terraform_dir: Path | None) -> tuple[str, str]:
    """The output JSON text and a name for where it came from, for error messages."""
    if input_file is not None and terraform_dir is None:
        if str(input_file) == "-":
            return sys.stdin.read(), "--file -"
        return outputs_to_env.read_outputs_file(input_file), f"--file {input_file}"
    if terraform_dir is not None and input_file is None:
        return outputs_to_env.run_terraform_output(terraform_dir), f"terraform output in {terraform_dir}"
    raise click.UsageError("give exactly one of --file FILE, --file - (stdin) or --terraform-dir DIR")
