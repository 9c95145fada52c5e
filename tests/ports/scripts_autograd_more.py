"""PyTorch's custom-autograd tutorials, ported by changing the imports (same contract as
``scripts.py``). Transcribed from pytorch/tutorials intermediate_source/:

* autograd_saved_tensors_hooks_tutorial.py (the ``_saved_*`` attribute sections are kept apart
  in ``saved_attributes``; "Saving tensors to disk" runs in a temporary directory passed in)
* custom_function_double_backward_tutorial.rst (Square, Exp, Sinh, SinhBad, Cube/CubeBackward)
* custom_function_conv_bn_tutorial.py (Conv2D, BatchNorm, FusedConvBN2DFunction, FusedConvBN,
  Net, train, test; MNIST replaced by tensors passed in, the CUDA peak-memory comparison left
  out, prints replaced by returned values)
"""

import os
import uuid


# ---------------------------------------------------------------------------------------------
# autograd_saved_tensors_hooks_tutorial.py
# ---------------------------------------------------------------------------------------------

def saved_attributes(torch):
    """The sections that read ``grad_fn._saved_self``, ``_saved_other`` and ``_saved_result``."""
    a = torch.randn(5, requires_grad=True)
    b = torch.ones(5, requires_grad=True)
    y = a * b
    out = {"self_other": (y.grad_fn._saved_self is a, y.grad_fn._saved_other is b)}
    a = torch.randn(5, requires_grad=True)
    y = torch.exp(a)
    out["result"] = (y.grad_fn._saved_result.equal(y), y.grad_fn._saved_result is y)
    return out


def saved_tensors_hooks(torch, nn, tmp_dir):
    """Every other section; returns what the prints showed and the gradients."""
    out = {}
    log = []

    def pack_hook(x):
        log.append(("Packing", x))
        return x

    def unpack_hook(x):
        log.append(("Unpacking", x))
        return x
    a = torch.ones(5, requires_grad=True)
    b = torch.ones(5, requires_grad=True) * 2

    with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
        y = a * b

    y.sum().backward()
    out["log"] = log

    x = torch.randn(5, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda x: x * 4, lambda x: x / 4):
        y = torch.pow(x, 2)
    y.sum().backward()
    assert(x.grad.equal(2 * x))

    # Returning the index of a Python list
    storage = []

    def pack(x):
        storage.append(x)
        return len(storage) - 1

    def unpack(x):
        return storage[x]

    x = torch.randn(5, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = x * x
    y.sum().backward()

    assert(x.grad.equal(2 * x))
    out["storage"] = len(storage)

    # Returning some tensor and a function how to unpack it
    def pack(x):
        delta = torch.randn(*x.size())
        return x - delta, lambda x: x + delta

    def unpack(packed):
        x, f = packed
        return f(x)

    x = torch.randn(5, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = x * x
    y.sum().backward()

    assert(torch.allclose(x.grad, 2 * x))

    # Returning the __repr__ of the tensor
    x = torch.randn(5, requires_grad=True)
    # (eval is given the module here: upstream's module-level `torch` is a local in this port)
    with torch.autograd.graph.saved_tensors_hooks(lambda x: repr(x),
                                                  lambda x: eval("torch." + x, {"torch": torch})):
        y = x * x
    y.sum().backward()
    assert(torch.all(x.grad - 2 * x <= 1e-4))

    # Saving tensors to CPU
    def pack_hook(x):
        return (x.device, x.cpu())

    def unpack_hook(packed):
        device, tensor = packed
        return tensor.to(device)

    x = torch.randn(5, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = x * x
    y.sum().backward()

    out["cpu_hooks"] = torch.allclose(x.grad, (2 * x))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.randn(5))

        def forward(self, x):
            with torch.autograd.graph.save_on_cpu(pin_memory=True):
                # some computation
                return self.w * x

    x = torch.randn(5)
    model = Model()
    loss = model(x).sum()
    loss.backward()
    out["save_on_cpu"] = (x, model.w.grad)

    class SaveToCpu(nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, *args, **kwargs):
            with torch.autograd.graph.save_on_cpu(pin_memory=True):
                return self.module(*args, **kwargs)

    model = nn.Sequential(
        nn.Linear(10, 100),
        SaveToCpu(nn.Linear(100, 100)),
        nn.Linear(100, 10),
    )

    x = torch.randn(10)
    loss = model(x).sum()
    loss.backward()
    out["save_to_cpu"] = (model, x)

    # Saving tensors to disk: the self-deleting version
    class SelfDeletingTempFile():
        def __init__(self):
            self.name = os.path.join(tmp_dir, str(uuid.uuid4()))

        def __del__(self):
            os.remove(self.name)

    def pack_hook(tensor):
        temp_file = SelfDeletingTempFile()
        torch.save(tensor, temp_file.name)
        return temp_file

    def unpack_hook(temp_file):
        return torch.load(temp_file.name)

    x = torch.randn(5, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
        y = x.pow(2)
    out["files_while_saved"] = len(os.listdir(tmp_dir))
    y.sum().backward()
    out["disk"] = (x, x.grad)

    # Only save on disk tensors that have size >= 1000
    SAVE_ON_DISK_THRESHOLD = 1000

    def pack_hook(x):
        if x.numel() < SAVE_ON_DISK_THRESHOLD:
            return x
        temp_file = SelfDeletingTempFile()
        torch.save(x, temp_file.name)  # upstream saves `tensor`, an undefined name
        return temp_file

    def unpack_hook(tensor_or_sctf):
        if isinstance(tensor_or_sctf, torch.Tensor):
            return tensor_or_sctf
        return torch.load(tensor_or_sctf.name)

    class SaveToDisk(nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, *args, **kwargs):
            with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
                return self.module(*args, **kwargs)

    net = nn.DataParallel(SaveToDisk(Model()))
    x = torch.randn(5)
    net(x).sum().backward()
    out["data_parallel"] = (net, x)
    return out


# ---------------------------------------------------------------------------------------------
# custom_function_double_backward_tutorial.rst
# ---------------------------------------------------------------------------------------------

def double_backward_functions(torch):
    """Square, Exp, sinh (through Sinh), SinhBad and Cube of the tutorial."""

    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            # Because we are saving one of the inputs use `save_for_backward`
            # Save non-tensors and non-inputs/non-outputs directly on ctx
            ctx.save_for_backward(x)
            return x**2

        @staticmethod
        def backward(ctx, grad_out):
            # A function support double backward automatically if autograd
            # is able to record the computations performed in backward
            x, = ctx.saved_tensors
            return grad_out * 2 * x

    class Exp(torch.autograd.Function):
        # Simple case where everything goes well
        @staticmethod
        def forward(ctx, x):
            # This time we save the output
            result = torch.exp(x)
            # Note that we should use `save_for_backward` here when
            # the tensor saved is an ouptut (or an input).
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_out):
            result, = ctx.saved_tensors
            return result * grad_out

    class Sinh(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            expx = torch.exp(x)
            expnegx = torch.exp(-x)
            ctx.save_for_backward(expx, expnegx)
            # In order to be able to save the intermediate results, a trick is to
            # include them as our outputs, so that the backward graph is constructed
            return (expx - expnegx) / 2, expx, expnegx

        @staticmethod
        def backward(ctx, grad_out, _grad_out_exp, _grad_out_negexp):
            expx, expnegx = ctx.saved_tensors
            grad_input = grad_out * (expx + expnegx) / 2
            # We cannot skip accumulating these even though we won't use the outputs
            # directly. They will be used later in the second backward.
            grad_input += _grad_out_exp * expx
            grad_input -= _grad_out_negexp * expnegx
            return grad_input

    def sinh(x):
        # Create a wrapper that only returns the first output
        return Sinh.apply(x)[0]

    class SinhBad(torch.autograd.Function):
        # This is an example of what NOT to do!
        @staticmethod
        def forward(ctx, x):
            expx = torch.exp(x)
            expnegx = torch.exp(-x)
            ctx.expx = expx
            ctx.expnegx = expnegx
            return (expx - expnegx) / 2

        @staticmethod
        def backward(ctx, grad_out):
            expx = ctx.expx
            expnegx = ctx.expnegx
            grad_input = grad_out * (expx + expnegx) / 2
            return grad_input

    def cube_forward(x):
        return x**3

    def cube_backward(grad_out, x):
        return grad_out * 3 * x**2

    def cube_backward_backward(grad_out, sav_grad_out, x):
        return grad_out * sav_grad_out * 6 * x

    def cube_backward_backward_grad_out(grad_out, x):
        return grad_out * 3 * x**2

    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return cube_forward(x)

        @staticmethod
        def backward(ctx, grad_out):
            x, = ctx.saved_tensors
            return CubeBackward.apply(grad_out, x)

    class CubeBackward(torch.autograd.Function):
        @staticmethod
        def forward(ctx, grad_out, x):
            ctx.save_for_backward(x, grad_out)
            return cube_backward(grad_out, x)

        @staticmethod
        def backward(ctx, grad_out):
            x, sav_grad_out = ctx.saved_tensors
            dx = cube_backward_backward(grad_out, sav_grad_out, x)
            dgrad_out = cube_backward_backward_grad_out(grad_out, x)
            return dgrad_out, dx

    return Square, Exp, sinh, SinhBad, Cube
