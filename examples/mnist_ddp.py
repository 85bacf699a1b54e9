"""Train the main example's CNN on MNIST data-parallel across processes (DistributedDataParallel).

    mpiexec -n 2 python examples/mnist_ddp.py --data-dir ../shared/data     # 2 ranks
    python examples/mnist_ddp.py --data-dir ../shared/data                  # 1 process, same run
    mpiexec -n 2 python examples/mnist_ddp.py --data-dir ../shared/data --backend torch

The model, the data loading and the evaluation are ``examples/mnist_cnn.py``'s (imported from
it), and so are the options (``python examples/mnist_cnn.py --help``), with two meanings made
explicit here: ``--batch-size`` is the *global* batch (each of the N ranks takes
``batch_size / N`` of it, so the run takes the same steps as one process with that batch), and
``--threads`` is per rank (default: the cores divided by the ranks on the machine).

Each rank holds a replica wrapped in ``nn.parallel.DistributedDataParallel`` and reads its own
shard of every epoch's shuffled order through ``DistributedSampler``; the gradients are averaged
across the ranks during ``backward()``. Because the sampler deals the global order out by
``rank::world``, step k of every run covers the same samples whatever the number of ranks, so
1 and 2 processes reach the same accuracy. Rank 0 prints and shows the progress bar; the test
set is evaluated in shards and the counts summed.

The loop is written once against ``lib``/``nn``/``optim``/``dist`` names: with ``--backend
torch`` the same code runs on PyTorch's DDP with Gloo (rendezvous on ``MASTER_ADDR``, default
127.0.0.1, and ``MASTER_PORT``, default 29511; ``RANK``/``WORLD_SIZE`` come from mpiexec via
``autograd.distributed``).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import autograd  # noqa: E402  (first: sets the BLAS thread policy before NumPy loads)
import autograd.distributed  # noqa: E402,F401  (sets RANK/WORLD_SIZE/... from mpiexec's vars)
import numpy as np  # noqa: E402

from mnist_cnn import (build, evaluate, exit_status, load_arrays, parse_args,  # noqa: E402
                       standardise)


def libraries(backend):
    """The namespaces the loop uses: tapegrad's, or PyTorch's for ``--backend torch``."""
    if backend == "torch":
        import torch as lib
        import torch.distributed as dist
        import torch.nn as nn
        import torch.optim as optim
        from torch.nn.parallel import DistributedDataParallel as DDP
        from torch.utils.data import DataLoader, TensorDataset
        from torch.utils.data.distributed import DistributedSampler
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", "29511")
        os.environ.setdefault("RANK", "0")
        os.environ.setdefault("WORLD_SIZE", "1")
    else:
        lib = autograd
        import nn
        import optim
        from autograd import distributed as dist
        from autograd.data import DataLoader, DistributedSampler, TensorDataset
        DDP = nn.parallel.DistributedDataParallel
    return lib, nn, optim, dist, DDP, DataLoader, TensorDataset, DistributedSampler


def run(args):
    lib, nn, optim, dist, DDP, DataLoader, TensorDataset, DistributedSampler = libraries(
        args.backend)
    if args.threads:
        lib.set_num_threads(args.threads)
    elif args.backend == "torch":  # tapegrad's init_process_group divides the cores itself
        local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        lib.set_num_threads(max(1, len(os.sched_getaffinity(0)) // local))
    dist.init_process_group("gloo")  # tapegrad serves "gloo" with MPI
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.batch_size % world:
        raise SystemExit(f"--batch-size {args.batch_size} must be a multiple of the number of "
                         f"ranks ({world})")
    from tqdm import tqdm

    lib.manual_seed(args.seed)
    if rank == 0:   # rank 0 first, so that a --download happens once
        arrays = load_arrays(args)
        dist.barrier()
    else:
        dist.barrier()
        arrays = load_arrays(args)
    x_train, y_train, x_test, y_test, source = arrays
    x_train, y_train, prepare, _, _ = standardise(args, x_train, y_train)
    train_set = TensorDataset(lib.from_numpy(prepare(x_train)), lib.from_numpy(y_train.copy()))
    xte, yte = prepare(x_test), y_test
    if rank == 0:
        print(f"backend {args.backend}: {source}: {len(train_set)} train / {len(xte)} test "
              f"images, {world} rank(s) x batch {args.batch_size // world} (global batch "
              f"{args.batch_size}), {lib.get_num_threads()} thread(s) per rank", flush=True)

    model = DDP(build(lib, nn))          # parameters broadcast from rank 0
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True,
                                 seed=args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size // world, sampler=sampler)

    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)
        model.train()
        start = time.perf_counter()
        step = 0
        bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", unit="batch", disable=rank != 0,
                   mininterval=0.5 if sys.stderr.isatty() else 10.0, file=sys.stderr)
        for xb, yb in bar:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()              # gradients averaged over the ranks here
            optimizer.step()
            step += 1
            if step % 50 == 0:           # every rank takes the same number of steps
                mean_loss = loss.detach().clone()
                dist.all_reduce(mean_loss)
                elapsed = time.perf_counter() - start
                bar.set_postfix(loss=f"{mean_loss.item() / world:.4f}",
                                img_s=f"{step * args.batch_size / elapsed:.0f}", refresh=False)
        bar.close()
        train_seconds = time.perf_counter() - start
        seen = step * args.batch_size
        # each rank evaluates a shard of the test set; the counts are summed
        share = slice(rank, None, world)
        mine = evaluate(lib, model.module, lib.from_numpy(np.ascontiguousarray(xte[share])),
                        lib.from_numpy(yte[share].copy()))
        correct = lib.tensor([round(mine * len(yte[share]) / 100.0)])
        dist.all_reduce(correct)
        accuracy = 100.0 * int(correct.item()) / len(yte)
        if rank == 0:
            print(f"epoch {epoch}: test accuracy {accuracy:.2f}%  train time {train_seconds:.1f} "
                  f"s ({seen / train_seconds:.0f} images/s over {world} rank(s))", flush=True)
    dist.destroy_process_group()
    return accuracy, rank


def main(argv=None):
    args = parse_args(argv)
    accuracy, rank = run(args)
    return exit_status(accuracy, args.min_accuracy, say=rank == 0)


if __name__ == "__main__":
    sys.exit(main())
