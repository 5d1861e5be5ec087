"""platform/nginx.conf is one template for docker-compose and `make stack`: both fill the same placeholders, and
what compose would render is a configuration Debian's nginx accepts (`make drills` runs the other rendering)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
TEMPLATE = (ROOT / "platform" / "nginx.conf").read_text()
PLACEHOLDERS = set(re.findall(r"\$\{(MODELYARD_[A-Z0-9_]+)\}", TEMPLATE))
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def compose_nginx() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["nginx"]


def envsubst(text: str, env: dict[str, str], name_filter: str) -> str:
    """What the nginx image's 20-envsubst-on-templates.sh does: ${NAME} of defined variables matching the filter."""
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                  lambda m: env[m.group(1)] if m.group(1) in env and re.search(name_filter, m.group(1)) else m.group(0),
                  text)


def test_compose_mounts_the_file_as_the_template_of_nginx_conf_and_fills_every_placeholder():
    service = compose_nginx()
    env = service["environment"]
    assert "./platform/nginx.conf:/etc/nginx/templates/nginx.conf.template:ro" in service["volumes"]
    assert env["NGINX_ENVSUBST_OUTPUT_DIR"] == "/etc/nginx"
    assert PLACEHOLDERS == {name for name in env if name.startswith("MODELYARD_")}
    assert "${MODELYARD_" not in envsubst(TEMPLATE, env, env["NGINX_ENVSUBST_FILTER"])


def test_the_stack_fills_the_same_placeholders():
    stack = (ROOT / "platform" / "stack" / "topology.py").read_text()
    assert PLACEHOLDERS == set(re.findall(r'"(MODELYARD_(?:WEB_\d|HTTP_PORT|HTTPS_PORT|TLS_DIR|NGINX_PID))"', stack))


def test_nginx_accepts_the_configuration_compose_renders(tmp_path):
    if NGINX is None:
        if os.environ.get("DATABASE_URL"):
            pytest.fail("nginx is missing: .ci/run installs it (apt-get install -y nginx)")
        pytest.skip("nginx is not installed (.ci/run installs it)")
    env = dict(compose_nginx()["environment"])
    # Only what needs Docker differs: the service names resolve in compose's network, the ports are privileged
    # outside a container, the certificate is the operator's.
    env.update(MODELYARD_WEB_1="127.0.0.1:18001", MODELYARD_WEB_2="127.0.0.1:18002", MODELYARD_HTTP_PORT="18080",
               MODELYARD_HTTPS_PORT="18443", MODELYARD_TLS_DIR=str(tmp_path), MODELYARD_NGINX_PID=str(tmp_path / "pid"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=t",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    shutil.copy("/etc/nginx/mime.types", tmp_path / "mime.types")
    conf = tmp_path / "nginx.conf"
    conf.write_text(envsubst(TEMPLATE, env, "MODELYARD_"))
    result = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
