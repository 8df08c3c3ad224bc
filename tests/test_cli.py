from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.conftest import OFFICIAL_POOL, require_shared
from tests.test_pool import record, write_lines


def test_envs_list_json(run) -> None:
    code, out, _ = run("envs", "list", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) >= 24
    assert {"id", "name", "output_type", "levels", "version"} <= set(rows[0])
    assert {r["output_type"] for r in rows} >= {"number", "array", "string"}


def test_envs_list_table(run) -> None:
    code, out, _ = run("envs", "list")
    assert code == 0 and "lis-length" in out and "environments" in out


def test_envs_show(run) -> None:
    code, out, _ = run("envs", "show", "lis-length")
    assert code == 0 and "Longest Increasing Subsequence" in out and "levels" in out
    code, out, _ = run("envs", "show", "lis-length", "--json")
    assert json.loads(out)["id"] == "lis-length"


def test_envs_sample_json(run) -> None:
    code, out, _ = run("envs", "sample", "lis-length", "--level", "2", "--seed", "4", "--json")
    data = json.loads(out)
    assert code == 0
    assert {"stdin", "shown_input", "answer", "messages", "level", "seed", "params"} <= set(data)
    assert (data["level"], data["seed"]) == (2, 4)
    code, out, _ = run("envs", "sample", "lis-length", "--level", "2", "-n", "3", "--json")
    assert [d["seed"] for d in json.loads(out)] == [0, 1, 2]


def test_unknown_env_exits_2(run) -> None:
    code, _, err = run("envs", "sample", "no-such-env", "--level", "0")
    assert code == 2 and "unknown environment 'no-such-env'" in err and "lis-length" in err


def test_level_out_of_range_exits_2(run) -> None:
    code, _, err = run("envs", "sample", "lis-length", "--level", "999")
    assert code == 2 and "level 999 is out of range for 'lis-length'" in err


def test_broken_pool_exits_2_naming_file_line_field(run, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [record(), record(id="x", levels=[0, -1])])
    code, out, err = run("envs", "list", "--pool", str(path))
    assert code == 2 and out == ""
    assert f"{path}, line 2: field 'levels'" in err and "[0, -1]" in err


def test_pool_output_type_without_verifier(run, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [record(output_type="graph")])
    code, _, err = run("envs", "list", "--pool", str(path))
    assert code == 2 and "'output_type'" in err and "'graph'" in err and "no verifier" in err


def test_pool_import_official(run, tmp_path: Path) -> None:
    out_path = tmp_path / "p.jsonl"
    code, out, _ = run(
        "pool",
        "import",
        str(require_shared(OFFICIAL_POOL)),
        "--format",
        "scaler-official",
        "-o",
        str(out_path),
        "--json",
    )
    assert code == 0 and len(json.loads(out)["converted"]) == 8
    code, out, _ = run("envs", "list", "--pool", str(out_path), "--json")
    assert len(json.loads(out)) == 8


def test_pool_import_reports_rejections(run, tmp_path: Path) -> None:
    source = tmp_path / "pool.json"
    source.write_text(json.dumps({"x": {"name": "x", "output_type": "graph"}}))
    code, out, err = run(
        "pool", "import", str(source), "--format", "scaler-official", "-o", str(tmp_path / "o")
    )
    assert code == 2 and "not converted: x: missing field(s)" in out
    assert "no entry could be converted" in err and not (tmp_path / "o").exists()


def test_sandbox_run(run, tmp_path: Path) -> None:
    program = tmp_path / "echo.py"
    program.write_text("print(input()[::-1])")
    stdin = tmp_path / "in.txt"
    stdin.write_text("abc\n")
    code, out, _ = run("sandbox", "run", str(program), "--stdin", str(stdin), "--json")
    result = json.loads(out)
    assert code == 0 and result["status"] == "ok" and result["stdout"] == "cba\n"
    assert {"exit_code", "stderr", "wall_s", "cpu_s"} <= set(result)
    # The backend that ran it: auto's choice, as the doctor reports it, or the one named.
    code, out, _ = run("sandbox", "doctor", "--json")
    assert result["backend"] == json.loads(out)["auto"]["backend"]
    code, out, _ = run(
        "sandbox", "run", str(program), "--backend", "process", "--stdin", str(stdin)
    )
    assert code == 0 and "backend process" in out.splitlines()[0]


def test_sandbox_run_compile_error(run, tmp_path: Path) -> None:
    program = tmp_path / "bad.cpp"
    program.write_text("int main( {")
    code, out, _ = run("sandbox", "run", str(program), "--json")
    result = json.loads(out)
    assert code == 1 and result["status"] == "compile-error" and "error" in result["stderr"]


def test_verify(run, tmp_path: Path) -> None:
    code, out, _ = run("envs", "sample", "lis-length", "--level", "3", "--json")
    path = tmp_path / "instance.json"
    path.write_text(out)
    answer = json.loads(out)["answer"]
    code, out, _ = run("verify", "--answer", f"so \\boxed{{{answer}}}", "--instance", str(path))
    assert code == 0 and out.startswith("correct")
    code, out, _ = run(
        "verify", "--answer", f"\\boxed{{{int(answer) + 1}}}", "--instance", str(path), "--json"
    )
    assert code == 1 and json.loads(out)["correct"] is False
    code, out, _ = run("verify", "--answer", "no box", "--instance", str(path))
    assert code == 1 and "no \\boxed" in out


def test_verify_bad_instance_file(run, tmp_path: Path) -> None:
    path = tmp_path / "instance.json"
    path.write_text('{"answer": 1}')
    code, _, err = run("verify", "--answer", "\\boxed{1}", "--instance", str(path))
    assert code == 2 and str(path) in err and "not an instance" in err


def test_plugins_json(run) -> None:
    code, out, _ = run("plugins", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0
    assert rows["builtin-envs"]["origin"] == "entry point of scaler"
    assert len(rows["builtin-envs"]["registered"]["environments"]) >= 24
    assert rows["scaler.default_plugins.verifiers"]["registered"]["verifiers"] == [
        "number",
        "array",
        "string",
    ]


LOCAL_PLUGIN = textwrap.dedent(
    '''
    import click
    from scaler import hookimpl
    from tests.test_instances import DOUBLE

    @hookimpl
    def scaler_register_commands(cli):
        @cli.command()
        def hello():
            """Say hello."""
            click.echo("hello from a plugin")

    @hookimpl
    def scaler_register_environments(register):
        register(DOUBLE)
    '''
)


def test_plugin_option_adds_commands_and_envs(run, tmp_path: Path) -> None:
    path = tmp_path / "local_plugin.py"
    path.write_text(LOCAL_PLUGIN)
    code, out, _ = run("--plugin", str(path), "hello")
    assert code == 0 and out.strip() == "hello from a plugin"
    code, out, _ = run("--plugin", str(path), "envs", "sample", "double", "--level", "1", "--json")
    data = json.loads(out)
    assert data["answer"] == str(2 * data["shown_input"]["n"])
    code, out, _ = run("--plugin", str(path), "plugins", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["scaler_plugin_local_plugin"]["registered"] == {"environments": ["double"]}
