"""A real Mosquitto for the tests: generated passwords, ACL, and TLS from a test CA.

Users: ``hashpivot`` (the controller: everything under hashpivot/), ``operator``
(commands in, everything readable) and ``viewer`` (read only). The broker can be
stopped and started again on the same ports, as a broker restart would.
"""

from __future__ import annotations

import asyncio
import datetime
import getpass
import ipaddress
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import free_port, require_tool

PASSWORDS = {"hashpivot": "ctl-secret", "operator": "op-secret", "viewer": "view-secret"}

DEPLOY = Path(__file__).parents[2] / "deploy/mosquitto"
# The shipped ACL, so the example in deploy/ is the one the tests rely on.
ACL = (DEPLOY / "acl").read_text()


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_tls(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca, cert, key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("hashpivot test CA"))
        .issuer_name(_name("hashpivot test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.crt", directory / "server.crt", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@dataclass
class Broker:
    directory: Path
    port: int = 0  # plain TCP with passwords
    tls_port: int = 0  # TLS with passwords
    persistence: bool = False  # keep sessions and retained messages over a restart
    ca: Path = field(init=False)
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        binary = require_tool("mosquitto")
        self._binary = binary
        passwd_tool = require_tool("mosquitto_passwd")
        self.port = self.port or free_port()
        self.tls_port = self.tls_port or free_port()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca, cert, key = make_tls(self.directory)
        passwd = self.directory / "passwd"
        for index, (user, password) in enumerate(PASSWORDS.items()):
            flags = ["-c"] if index == 0 else []
            subprocess.run([passwd_tool, *flags, "-b", str(passwd), user, password], check=True)
        acl = self.directory / "acl"
        acl.write_text(ACL)
        self.config = self.directory / "mosquitto.conf"
        self.config.write_text(self._shipped_config(cert, key))
        self.log = self.directory / "mosquitto.log"

    def _shipped_config(self, cert: Path, key: Path) -> str:
        """deploy/mosquitto/mosquitto.conf with this test's paths, ports and TLS on."""
        text = (DEPLOY / "mosquitto.conf").read_text()
        text = text.replace("/mosquitto/config/passwd", str(self.directory / "passwd"))
        text = text.replace("/mosquitto/config/acl", str(self.directory / "acl"))
        text = text.replace("/mosquitto/data/", f"{self.directory}/")
        text = text.replace("/mosquitto/config/ca.crt", str(self.ca))
        text = text.replace("/mosquitto/config/server.crt", str(cert))
        text = text.replace("/mosquitto/config/server.key", str(key))
        text = text.replace("listener 1883 127.0.0.1", f"listener {self.port} 127.0.0.1")
        text = text.replace("# listener 8883", f"listener {self.tls_port} 127.0.0.1")
        for name in ("cafile", "certfile", "keyfile"):
            text = text.replace(f"# {name} ", f"{name} ")
        text = text.replace("persistence true", f"persistence {str(self.persistence).lower()}")
        assert "/mosquitto/config/" not in text, "a path in the shipped config was not replaced"
        assert "/mosquitto/data/" not in text, "a path in the shipped config was not replaced"
        # Run as whoever runs the tests (root would otherwise drop to "mosquitto",
        # which cannot read the test's private directory).
        return f"user {getpass.getuser()}\n{text}"

    def start(self) -> None:
        assert self.process is None
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self._binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.tls_port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)
