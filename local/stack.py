"""The embedded local stack: moto, the Shopify emulator and the template's functions, wired from template.yaml.

    with LocalStack(ports=Ports.ephemeral(), start_scheduler=False) as stack:
        httpx.get(f"{stack.api_url}/shops")
        stack.poller.drain()

`python -m local.stack` runs it in the foreground until Ctrl-C / SIGTERM. Ports come from SHOPSYNC_API_PORT
(3000), SHOPSYNC_EMULATOR_PORT (8300), SHOPSYNC_MOTO_PORT (5000) and SHOPSYNC_LAMBDA_PORT (3001); 0 picks a free
port. SHOPSYNC_SCHEDULE_TIME_SCALE (default 1) speeds up the schedules.

The functions run in this process and share its environment, so the stack sets, for the time it runs, the AWS
endpoint variables (moto for every service, the local Invoke API for Lambda) and the union of the functions'
template environments, and refuses a template in which two functions give one variable different values.
moto's state is per process: a stack resets it when it starts and stops.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType

import boto3
import httpx
from moto.server import ThreadedMotoServer
from werkzeug.serving import BaseWSGIServer

from local.api_gateway import ApiGatewayShim, serve_api
from local.emulator import ShopifyEmulator, serve_in_thread
from local.emulator.seed import SeedSummary, seed_demo_stores
from local.http_server import LOOPBACK, BackgroundServer
from local.lambda_invoke import serve_lambda_api
from local.lambda_runtime import FailureDestinations, Handler, LocalLambdaRuntime
from local.resources import LocalResources
from local.scheduler import LocalScheduler
from local.stream_poller import StreamPoller, consumers_for
from local.template import LOCAL_REGION, TEMPLATE_PATH, SamTemplate, TemplateError
from shopsync.process import reset_process_state

log = logging.getLogger("local.stack")

API_FUNCTION = "ApiFunction"


@dataclass(frozen=True)
class Ports:
    api: int = 3000
    emulator: int = 8300
    moto: int = 5000
    lambda_api: int = 3001

    @classmethod
    def from_env(cls) -> Ports:
        defaults = cls()
        return cls(
            api=int(os.environ.get("SHOPSYNC_API_PORT", defaults.api)),
            emulator=int(os.environ.get("SHOPSYNC_EMULATOR_PORT", defaults.emulator)),
            moto=int(os.environ.get("SHOPSYNC_MOTO_PORT", defaults.moto)),
            lambda_api=int(os.environ.get("SHOPSYNC_LAMBDA_PORT", defaults.lambda_api)),
        )

    @classmethod
    def ephemeral(cls) -> Ports:
        """Free ports picked by the OS (tests, parallel runs)."""
        return cls(api=0, emulator=0, moto=0, lambda_api=0)


# How the stack registers the emulator's seeded stores (the seed decides names, currencies and tokens).
STORE_REGISTRATION = {
    "us-parent": {"role": "parent", "identifier_type": "SKU"},
    "eu-child": {"role": "child", "identifier_type": "SKU"},
    "uk-child": {"role": "child", "identifier_type": "BARCODE"},
}
# What an operator subscribes in each store's admin (Settings → Notifications → Webhooks) to the API's webhook route.
ORDER_WEBHOOK_TOPICS = ("orders/create", "orders/updated", "orders/cancelled")


class LocalStack:
    # Set by start(), in this order.
    moto_url: str
    resources: LocalResources
    runtime: LocalLambdaRuntime
    lambda_url: str
    poller: StreamPoller
    api: ApiGatewayShim
    api_url: str
    scheduler: LocalScheduler

    def __init__(
        self,
        *,
        ports: Ports | None = None,
        environment: str = "dev",
        template_path: Path = TEMPLATE_PATH,
        start_scheduler: bool = True,
        start_stream_poller: bool = True,
        with_emulator: bool = True,
        register_stores: bool = True,
        schedule_time_scale: float = 1.0,
        async_retry_delay_seconds: float = 1.0,
        handlers: Mapping[str, Handler] | None = None,
    ) -> None:
        """Without the scheduler / stream poller threads, tests drive them with `scheduler.run_now()` and
        `poller.drain()`. `handlers` replaces some of the template's handlers (stand-ins in tests)."""
        self.ports = ports or Ports.from_env()
        self.template = SamTemplate.load(template_path, Environment=environment)
        self.environment = environment
        self._start_scheduler = start_scheduler
        self._start_stream_poller = start_stream_poller
        self._with_emulator = with_emulator
        self._register_stores = register_stores
        self._schedule_time_scale = schedule_time_scale
        self._async_retry_delay_seconds = async_retry_delay_seconds
        self._handlers = dict(handlers or {})
        self._env_before: dict[str, str | None] = {}
        self._servers: list[BackgroundServer] = []
        self._moto: ThreadedMotoServer | None = None
        self.emulator: ShopifyEmulator | None = None
        self.emulator_url = ""
        self._emulator_server: BaseWSGIServer | None = None

    # -- lifecycle

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self._start_moto()
        self.resources = LocalResources(self.template)
        self.resources.create()
        self._set_env(self._functions_environment())
        destinations = FailureDestinations(self.resources)
        self.runtime = LocalLambdaRuntime(
            self.template.functions(),
            destinations,
            handlers=self._handlers,
            async_retry_delay_seconds=self._async_retry_delay_seconds,
        )
        lambda_server = self._serve(serve_lambda_api(self.runtime, self.ports.lambda_api))
        self.lambda_url = lambda_server.url
        self._set_env({"AWS_ENDPOINT_URL_LAMBDA": self.lambda_url})
        reset_process_state()
        seed = self._start_emulator() if self._with_emulator else None
        self.poller = StreamPoller(list(consumers_for(self.runtime, self.resources.stream_arns, destinations)))
        if self._start_stream_poller:
            self.poller.start()
        self.api = ApiGatewayShim(self.runtime, stage=self.environment, ready=False)
        self.api_url = self._serve(serve_api(self.api, self.ports.api)).url
        if self._register_stores and seed is not None:
            self._register_demo_stores(seed)
        # After registration, so the first scheduled runs find the stores.
        self.scheduler = LocalScheduler(self.runtime, time_scale=self._schedule_time_scale)
        if self._start_scheduler:
            self.scheduler.start()
        self.api.mark_ready(api=self.api_url, emulator=self.emulator_url or None, moto=self.moto_url)

    def stop(self) -> None:
        for component in (getattr(self, "scheduler", None), getattr(self, "poller", None)):
            if component is not None:
                component.stop()
        if hasattr(self, "runtime") and not self.runtime.wait_until_idle(timeout_seconds=5):
            log.warning("stopping while asynchronous invocations are still running")
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()
        if self._emulator_server is not None:
            self._emulator_server.shutdown()
            self._emulator_server.server_close()
            self._emulator_server = None
        if self._moto is not None:
            httpx.post(f"{self.moto_url}/moto-api/reset", timeout=5)
            self._moto.stop()
            self._moto = None
        self._restore_env()
        reset_process_state()

    # -- pieces

    def _start_moto(self) -> None:
        self._moto = ThreadedMotoServer(ip_address=LOOPBACK, port=self.ports.moto, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.moto_url = f"http://{host}:{port}"
        httpx.post(f"{self.moto_url}/moto-api/reset", timeout=5)  # moto's state is global to the process
        self._set_env(
            {
                "AWS_ENDPOINT_URL": self.moto_url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": None,
                "AWS_PROFILE": None,  # a real profile must never be picked up
                "AWS_DEFAULT_REGION": LOCAL_REGION,
                "AWS_REGION": LOCAL_REGION,
                # botocore >= 1.44 would send DynamoDB Streams calls to an account endpoint moto does not serve.
                "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
            }
        )

    def _functions_environment(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for spec in self.template.functions().values():
            for key, value in self.template.function_environment(spec, self.resources).items():
                if merged.setdefault(key, value) != value:
                    raise TemplateError(
                        f"{key} is {merged[key]!r} for one function and {value!r} for {spec.logical_id}; "
                        "functions sharing this process share one environment"
                    )
        return merged

    def _start_emulator(self) -> SeedSummary:
        self.emulator = ShopifyEmulator()
        seed = seed_demo_stores(emulator=self.emulator)
        self._emulator_server, self.emulator_url = serve_in_thread(
            self.emulator, host=LOOPBACK, port=self.ports.emulator
        )
        secrets = boto3.client("secretsmanager")
        for store in seed.stores.values():
            secrets.create_secret(Name=self.secret_name(store.shop_id), SecretString=store.access_token)
            secrets.create_secret(
                Name=self.webhook_secret_name(store.shop_id),
                SecretString=self.emulator.store(store.shop_id).webhooks.secret,
            )
        return seed

    def _register_demo_stores(self, seed: SeedSummary) -> None:
        """Register each store through the API, with its webhook key, and subscribe its order webhooks to the API's
        route, as an operator does in the Shopify admin."""
        assert self.emulator is not None
        api_version = str(self.template.parameters["ShopifyApiVersion"])
        with httpx.Client(base_url=self.api_url, timeout=30) as client:
            for store in seed.stores.values():
                response = client.put(
                    f"/shops/{store.shop_id}",
                    json={
                        **STORE_REGISTRATION[store.shop_id],
                        "name": store.name,
                        "admin_api_base_url": self.store_url(store.shop_id),
                        "api_version": api_version,
                        "currency": store.currency,
                        "token_secret_name": self.secret_name(store.shop_id),
                        "myshopify_domain": self.emulator.store(store.shop_id).myshopify_domain,
                        "webhook_secret_name": self.webhook_secret_name(store.shop_id),
                    },
                )
                if response.is_error:
                    raise RuntimeError(f"registering {store.shop_id} failed: {response.status_code} {response.text}")
                for topic in ORDER_WEBHOOK_TOPICS:
                    self.emulator.subscribe_webhook(store.shop_id, topic, f"{self.api_url}/webhooks/shopify")

    def _serve(self, server: BackgroundServer) -> BackgroundServer:
        self._servers.append(server)
        return server

    def _set_env(self, values: Mapping[str, str | None]) -> None:
        for key, value in values.items():
            self._env_before.setdefault(key, os.environ.get(key))
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def _restore_env(self) -> None:
        for key, value in self._env_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._env_before.clear()

    # -- what callers need

    def secret_name(self, shop_id: str) -> str:
        return f"shopsync/{self.environment}/shopify/{shop_id}"

    def webhook_secret_name(self, shop_id: str) -> str:
        return f"shopsync/{self.environment}/webhooks/{shop_id}"

    def store_url(self, shop_id: str) -> str:
        return f"{self.emulator_url}/stores/{shop_id}"

    @property
    def table_name(self) -> str:
        return self.resources.ref("Table")

    @property
    def on_failure_queue_url(self) -> str:
        return self.resources.ref("OnFailureQueue")


def main() -> None:
    logging.basicConfig(level=os.environ.get("SHOPSYNC_LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(message)s")
    for chatty in ("werkzeug", "httpx", "botocore"):  # per-request lines; local.api logs the API's requests
        logging.getLogger(chatty).setLevel(logging.WARNING)
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    time_scale = float(os.environ.get("SHOPSYNC_SCHEDULE_TIME_SCALE", "1"))
    with LocalStack(schedule_time_scale=time_scale) as stack:
        print(f"API (ApiFunction)   {stack.api_url}   health: {stack.api_url}/health", flush=True)
        print(f"Shopify emulator    {stack.emulator_url}   stores: {', '.join(STORE_REGISTRATION)}")
        print(f"moto (AWS)          {stack.moto_url}   table: {stack.table_name}")
        print(f"Lambda invoke API   {stack.lambda_url}")
        print("Ctrl-C to stop.", flush=True)
        stopping.wait()
    print("stopped.")


if __name__ == "__main__":
    main()
