"""Model-serving software, recognised by what a container runs: its image or its command.

The maintained list of what makes a workload an AI workload whether or not it says so. Images are
matched by repository name (any registry, tag or digest), commands by the server program they start,
so `python -m vllm.entrypoints.openai.api_server` in a plain Python image is found as well.
Add an entry when a new serving stack appears; tests/policy_pack/test_ai_graph.py holds one case each.
"""

from __future__ import annotations

import re
from typing import Any

from .access import get, items
from .podspec import Container, PodTemplate, containers
from .images import image_name

# Repository names (the last path segment, lower case) -> the software, as messages name it.
SERVING_IMAGES: dict[str, str] = {
    "ollama": "Ollama",
    "vllm-openai": "vLLM",
    "vllm": "vLLM",
    "vllm-tpu": "vLLM",
    "text-generation-inference": "Hugging Face TGI",
    "text-embeddings-inference": "Hugging Face TEI",
    "tgi-gaudi": "Hugging Face TGI",
    "tritonserver": "NVIDIA Triton",
    "llama.cpp": "llama.cpp server",
    "llama-cpp-python": "llama.cpp server",
    "localai": "LocalAI",
    "local-ai": "LocalAI",
    "sglang": "SGLang",
    "lmdeploy": "LMDeploy",
    "xinference": "Xorbits Inference",
    "openllm": "OpenLLM",
    "tabby": "Tabby",
    "llamafile": "llamafile",
    "koboldcpp": "KoboldCpp",
    "aphrodite-engine": "Aphrodite",
    "tensorrt-llm": "TensorRT-LLM",
    "mlserver": "Seldon MLServer",
    "torchserve": "TorchServe",
    "tensorflow-serving": "TensorFlow Serving",
    "serving": "TensorFlow Serving",  # tensorflow/serving
    "kserve-huggingfaceserver": "KServe Hugging Face server",
    "huggingfaceserver": "KServe Hugging Face server",
    "ray-ml": "Ray Serve",
    "infinity": "Infinity embeddings",
}
# Namespaces a generic repository name must come with to count ("serving" alone is too common).
_QUALIFIED = {"serving": ("tensorflow",), "infinity": ("michaelf34",), "tabby": ("tabbyml",)}
# Server programs in command/args.
_COMMANDS = re.compile(
    r"(?:^|[\s/])(?P<server>ollama\s+serve|llama-server|llama\.cpp/server|text-generation-launcher|tritonserver|"
    r"local-ai|vllm\s+serve|vllm\.entrypoints|sglang\.launch_server|lmdeploy\s+serve|xinference-local|"
    r"openllm\s+(?:start|serve)|text-embeddings-router|torchserve|tensorflow_model_server|mlserver\s+start|"
    r"llama_cpp\.server|tabby\s+serve)(?:$|[\s.])")


def _repository(image: Any) -> tuple[str, str] | None:
    """(namespace, name) of the image's repository, lower-cased (registries are case-insensitive there)."""
    return image_name(image.lower() if isinstance(image, str) else image)


def container_software(container: Container) -> str | None:
    repository = _repository(get(container.spec, "image"))
    if repository is not None:
        namespace, name = repository
        software = SERVING_IMAGES.get(name)
        if software and (name not in _QUALIFIED or namespace in _QUALIFIED[name]):
            return software
    words = " ".join(str(word) for word in items(container.spec, "command") + items(container.spec, "args"))
    match = _COMMANDS.search(words)
    return match["server"] if match else None


def serving_software(template: PodTemplate) -> tuple[Container, str] | None:
    """The first container running model-serving software, with the software's name."""
    for container in containers(template, ("container", "initContainer")):
        software = container_software(container)
        if software:
            return container, software
    return None
