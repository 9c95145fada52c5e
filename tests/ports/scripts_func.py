"""PyTorch ``torch.func`` tutorials, written once against module objects (the fourth set of ports).

Same contract as ``scripts.py``: every function takes the framework (``torch``, ``nn``, ``F``)
as arguments and uses only what the upstream code writes, so it runs unchanged on PyTorch and on
tinygen. Sizes are shrunk (the models take a ``size`` argument); data comes in from outside.
Transcribed from:

* intermediate_source/per_sample_grads.py (SimpleCNN, compute_sample_grads, vmap(grad(...)))
* intermediate_source/ensembling.py (SimpleMLP, stack_module_state, vmap over functional_call)
* intermediate_source/jacobians_hessians.py (predict, vjp / jacrev / jacfwd / hessian, hvp)
* intermediate_source/neural_tangent_kernels.py (CNN, both empirical NTK methods)

The transformer LM, FGSM and autograd-mechanics scripts of this set are in
``scripts_func_more.py``.
"""

import copy
from functools import partial


# ---------------------------------------------------------------------------------------------
# 1. Per-sample gradients
# ---------------------------------------------------------------------------------------------

def make_simple_cnn(torch, nn, F, c1=32, c2=64, hidden=128, side=28):
    """The tutorial's SimpleCNN; (32, 64, 128, 28) upstream, where fc1 has 9216 inputs."""
    flat = c2 * ((side - 4) // 2) ** 2

    class SimpleCNN(nn.Module):
        def __init__(self):
            super(SimpleCNN, self).__init__()
            self.conv1 = nn.Conv2d(1, c1, 3, 1)
            self.conv2 = nn.Conv2d(c1, c2, 3, 1)
            self.fc1 = nn.Linear(flat, hidden)
            self.fc2 = nn.Linear(hidden, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(x)
            x = self.conv2(x)
            x = F.relu(x)
            x = F.max_pool2d(x, 2)
            x = torch.flatten(x, 1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.fc2(x)
            output = F.log_softmax(x, dim=1)
            return output

    return SimpleCNN()


def per_sample_grads(torch, F, model, data, targets):
    """The tutorial's body: (the loop of per-sample backward calls, the vmap(grad) dict)."""
    batch_size = data.shape[0]

    def loss_fn(predictions, targets):
        return F.nll_loss(predictions, targets)

    predictions = model(data)  # move the entire mini-batch through the model
    loss = loss_fn(predictions, targets)
    loss.backward()  # back propagate the 'average' gradient of this mini-batch

    def compute_grad(sample, target):
        sample = sample.unsqueeze(0)  # prepend batch dimension for processing
        target = target.unsqueeze(0)
        prediction = model(sample)
        loss = loss_fn(prediction, target)
        return torch.autograd.grad(loss, list(model.parameters()))

    def compute_sample_grads(data, targets):
        """ manually process each sample with per sample gradient """
        sample_grads = [compute_grad(data[i], targets[i]) for i in range(batch_size)]
        sample_grads = zip(*sample_grads)
        sample_grads = [torch.stack(shards) for shards in sample_grads]
        return sample_grads

    per_sample_grads = compute_sample_grads(data, targets)

    from_func = torch.func
    functional_call, vmap, grad = from_func.functional_call, from_func.vmap, from_func.grad

    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def compute_loss(params, buffers, sample, target):
        batch = sample.unsqueeze(0)
        targets = target.unsqueeze(0)
        predictions = functional_call(model, (params, buffers), (batch,))
        loss = loss_fn(predictions, targets)
        return loss

    ft_compute_grad = grad(compute_loss)
    ft_compute_sample_grad = vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
    ft_per_sample_grads = ft_compute_sample_grad(params, buffers, data, targets)

    for per_sample_grad, ft_per_sample_grad in zip(per_sample_grads,
                                                   ft_per_sample_grads.values()):
        assert torch.allclose(per_sample_grad, ft_per_sample_grad, atol=3e-3, rtol=1e-5)
    return per_sample_grads, ft_per_sample_grads


# ---------------------------------------------------------------------------------------------
# 2. Model ensembling
# ---------------------------------------------------------------------------------------------

def make_models(torch, nn, F, num_models=10, d_in=784, hidden=128):
    """``num_models`` SimpleMLPs (one class, as stack_module_state asks)."""
    class SimpleMLP(nn.Module):
        def __init__(self):
            super(SimpleMLP, self).__init__()
            self.fc1 = nn.Linear(d_in, hidden)
            self.fc2 = nn.Linear(hidden, hidden)
            self.fc3 = nn.Linear(hidden, 10)

        def forward(self, x):
            x = x.flatten(1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.fc2(x)
            x = F.relu(x)
            x = self.fc3(x)
            return x

    models = [SimpleMLP() for _ in range(num_models)]
    return models


def ensemble(torch, models, data, meta=True):
    """The tutorial's body for ``data`` of shape (>= num_models, batch, ...): returns the four
    predictions (loop and vmap, different minibatches and the same one). ``meta=False`` keeps
    the stateless base model on the CPU (tinygen has no 'meta' device)."""
    num_models = len(models)
    minibatches = data[:num_models]
    predictions_diff_minibatch_loop = [model(minibatch) for model, minibatch
                                       in zip(models, minibatches)]

    minibatch = data[0]
    predictions2 = [model(minibatch) for model in models]

    stack_module_state = torch.func.stack_module_state
    params, buffers = stack_module_state(models)

    functional_call = torch.func.functional_call

    # Construct a "stateless" version of one of the models. It is "stateless" in
    # the sense that the parameters are meta Tensors and do not have storage.
    base_model = copy.deepcopy(models[0])
    if meta:
        base_model = base_model.to('meta')

    def fmodel(params, buffers, x):
        return functional_call(base_model, (params, buffers), (x,))

    # show the leading 'num_models' dimension
    assert [p.size(0) for p in params.values()] == [num_models] * len(params)

    vmap = torch.vmap

    predictions1_vmap = vmap(fmodel)(params, buffers, minibatches)

    # verify the ``vmap`` predictions match the
    assert torch.allclose(predictions1_vmap, torch.stack(predictions_diff_minibatch_loop),
                          atol=1e-3, rtol=1e-5)

    predictions2_vmap = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatch)

    assert torch.allclose(predictions2_vmap, torch.stack(predictions2), atol=1e-3, rtol=1e-5)
    return (torch.stack(predictions_diff_minibatch_loop), predictions1_vmap,
            torch.stack(predictions2), predictions2_vmap)


# ---------------------------------------------------------------------------------------------
# 3. Jacobians, Hessians, hvp, vhp, and more
# ---------------------------------------------------------------------------------------------

def make_predict(F):
    def predict(weight, bias, x):
        return F.linear(x, weight, bias).tanh()
    return predict


def jacobians(torch, F, weight, bias, x):
    """Jacobian of predict w.r.t. x three ways (autograd.grad rows, vmap(vjp), jacrev), and
    jacrev w.r.t. (weight, bias); returns them all."""
    predict = make_predict(F)
    D = x.shape[0]
    vmap, vjp, jacrev = torch.func.vmap, torch.func.vjp, torch.func.jacrev

    def compute_jac(xp):
        jacobian_rows = [torch.autograd.grad(predict(weight, bias, xp), xp, vec)[0]
                         for vec in unit_vectors]
        return torch.stack(jacobian_rows)

    xp = x.clone().requires_grad_()
    unit_vectors = torch.eye(D, dtype=x.dtype)

    jacobian = compute_jac(xp)

    _, vjp_fn = vjp(partial(predict, weight, bias), x)

    ft_jacobian, = vmap(vjp_fn)(unit_vectors)

    # let's confirm both methods compute the same result
    assert torch.allclose(ft_jacobian, jacobian)

    ft_jacobian = jacrev(predict, argnums=2)(weight, bias, x)

    # Confirm by running the following:
    assert torch.allclose(ft_jacobian, jacobian)

    # note the change in input via ``argnums`` parameters of 0,1 to map to weight and bias
    ft_jac_weight, ft_jac_bias = jacrev(predict, argnums=(0, 1))(weight, bias, x)
    fwd_jacobian = torch.func.jacfwd(predict, argnums=2)(weight, bias, x)
    return jacobian, ft_jacobian, fwd_jacobian, ft_jac_weight, ft_jac_bias


def hessians(torch, F, weight, bias, x):
    """The tutorial's three Hessians (which should agree)."""
    predict = make_predict(F)
    hessian, jacfwd, jacrev = torch.func.hessian, torch.func.jacfwd, torch.func.jacrev
    hess_api = hessian(predict, argnums=2)(weight, bias, x)
    hess_fwdfwd = jacfwd(jacfwd(predict, argnums=2), argnums=2)(weight, bias, x)
    hess_revrev = jacrev(jacrev(predict, argnums=2), argnums=2)(weight, bias, x)
    return hess_api, hess_fwdfwd, hess_revrev


def batch_jacobians(torch, F, weight, bias, x):
    """Batch Jacobian by vmap(jacrev) and by the summed-output trick, and the batch Hessian."""
    predict = make_predict(F)
    vmap, jacrev, hessian = torch.func.vmap, torch.func.jacrev, torch.func.hessian

    compute_batch_jacobian = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))
    batch_jacobian0 = compute_batch_jacobian(weight, bias, x)

    def predict_with_output_summed(weight, bias, x):
        return predict(weight, bias, x).sum(0)

    batch_jacobian1 = jacrev(predict_with_output_summed, argnums=2)(weight, bias,
                                                                    x).movedim(1, 0)
    assert torch.allclose(batch_jacobian0, batch_jacobian1)

    compute_batch_hessian = vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))

    batch_hess = compute_batch_hessian(weight, bias, x)
    return batch_jacobian0, batch_jacobian1, batch_hess


def hvp_vhp(torch, x, tangent):
    """hvp via jvp(grad) (the tutorial), vhp via vjp(grad) and hvp via grad-of-vjp (its
    "and more": the same product by reverse mode only)."""
    jvp, grad, vjp = torch.func.jvp, torch.func.grad, torch.func.vjp

    def hvp(f, primals, tangents):
        return jvp(grad(f), primals, tangents)[1]

    def vhp(f, primals, tangents):
        _, vjp_fn = vjp(grad(f), *primals)
        return vjp_fn(*tangents)[0]

    def hvp_revrev(f, primals, tangents):
        _, vjp_fn = vjp(grad(f), *primals)
        return vjp_fn(*tangents)

    def f(x):
        return x.sin().sum()

    result = hvp(f, (x,), (tangent,))
    return result, vhp(f, (x,), (tangent,)), hvp_revrev(f, (x,), (tangent,))[0]


# ---------------------------------------------------------------------------------------------
# 4. Neural tangent kernels
# ---------------------------------------------------------------------------------------------

def make_ntk_cnn(torch, nn, ch=32, side=32):
    """The tutorial's CNN; (32, 32) upstream, where fc has 21632 inputs."""
    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, ch, (3, 3))
            self.conv2 = nn.Conv2d(ch, ch, (3, 3))
            self.conv3 = nn.Conv2d(ch, ch, (3, 3))
            self.fc = nn.Linear(ch * (side - 6) ** 2, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = x.relu()
            x = self.conv2(x)
            x = x.relu()
            x = self.conv3(x)
            x = x.flatten(1)
            x = self.fc(x)
            return x

    return CNN()


def ntk(torch, net, x_train, x_test, compute='full'):
    """The empirical NTK of ``net`` between x_train and x_test by both tutorial methods."""
    functional_call, vmap = torch.func.functional_call, torch.func.vmap
    vjp, jvp, jacrev = torch.func.vjp, torch.func.jvp, torch.func.jacrev

    # Detaching the parameters because we won't be calling Tensor.backward().
    params = {k: v.detach() for k, v in net.named_parameters()}

    def fnet_single(params, x):
        return functional_call(net, params, (x.unsqueeze(0),)).squeeze(0)

    def empirical_ntk_jacobian_contraction(fnet_single, params, x1, x2, compute='full'):
        # Compute J(x1)
        jac1 = vmap(jacrev(fnet_single), (None, 0))(params, x1)
        jac1 = jac1.values()
        jac1 = [j.flatten(2) for j in jac1]

        # Compute J(x2)
        jac2 = vmap(jacrev(fnet_single), (None, 0))(params, x2)
        jac2 = jac2.values()
        jac2 = [j.flatten(2) for j in jac2]

        # Compute J(x1) @ J(x2).T
        einsum_expr = None
        if compute == 'full':
            einsum_expr = 'Naf,Mbf->NMab'
        elif compute == 'trace':
            einsum_expr = 'Naf,Maf->NM'
        elif compute == 'diagonal':
            einsum_expr = 'Naf,Maf->NMa'
        else:
            assert False

        result = torch.stack([torch.einsum(einsum_expr, j1, j2) for j1, j2 in zip(jac1, jac2)])
        result = result.sum(0)
        return result

    def empirical_ntk_ntk_vps(func, params, x1, x2, compute='full'):
        def get_ntk(x1, x2):
            def func_x1(params):
                return func(params, x1)

            def func_x2(params):
                return func(params, x2)

            output, vjp_fn = vjp(func_x1, params)

            def get_ntk_slice(vec):
                # This computes ``vec @ J(x2).T``
                # `vec` is some unit vector (a single slice of the Identity matrix)
                vjps = vjp_fn(vec)
                # This computes ``J(X1) @ vjps``
                _, jvps = jvp(func_x2, (params,), vjps)
                return jvps

            # Here's our identity matrix
            basis = torch.eye(output.numel(), dtype=output.dtype,
                              device=output.device).view(output.numel(), -1)
            return vmap(get_ntk_slice)(basis)

        # ``get_ntk(x1, x2)`` computes the NTK for a single data point x1, x2
        # Since the x1, x2 inputs to ``empirical_ntk_ntk_vps`` are batched,
        # we actually wish to compute the NTK between every pair of data points
        # between {x1} and {x2}. That's what the ``vmaps`` here do.
        result = vmap(vmap(get_ntk, (None, 0)), (0, None))(x1, x2)

        if compute == 'full':
            return result
        if compute == 'trace':
            return torch.einsum('NMKK->NM', result)
        if compute == 'diagonal':
            return torch.einsum('NMKK->NMK', result)

    result_from_jacobian_contraction = empirical_ntk_jacobian_contraction(
        fnet_single, params, x_train, x_test, compute)
    result_from_ntk_vps = empirical_ntk_ntk_vps(fnet_single, params, x_train, x_test, compute)

    assert torch.allclose(result_from_jacobian_contraction, result_from_ntk_vps, atol=1e-5)
    return result_from_jacobian_contraction, result_from_ntk_vps
