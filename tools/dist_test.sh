#!/usr/bin/env bash
# Multi-GPU / multi-node testing through torchrun and MMEngine's pytorch
# launcher. Without CUDA the processes use gloo on CPU.
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC_PER_NODE [test.py args]
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
# The interpreter: PYTHON=/path/to/venv/bin/python, else `python` on PATH.
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$(dirname "$0")/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
