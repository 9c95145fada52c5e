"""pytorch/examples' actor-critic, ported by changing the imports (same contract as
``scripts.py``).

Transcribed from pytorch/examples reinforcement_learning/actor_critic.py (commit 77f55b9).
Changes from upstream: the module-level code sits in a function whose arguments replace the
imports (``gym`` is any object with ``make``, as the test's stub CartPole; ``Categorical`` may be
a subclass that samples from given draws), ``parse_args`` reads ``argv``, and ``print`` is an
argument so the test can read the log. ``main`` is returned, not called.
"""

import argparse
from itertools import count
from collections import namedtuple


def actor_critic(torch, nn, F, optim, Categorical, np, gym, argv=(), print=print):
    """Runs the module's top level; returns its names (model, optimizer, main, ...)."""
    parser = argparse.ArgumentParser(description='PyTorch actor-critic example')
    parser.add_argument('--gamma', type=float, default=0.99, metavar='G',
                        help='discount factor (default: 0.99)')
    parser.add_argument('--seed', type=int, default=543, metavar='N',
                        help='random seed (default: 543)')
    parser.add_argument('--render', action='store_true',
                        help='render the environment')
    parser.add_argument('--log-interval', type=int, default=10, metavar='N',
                        help='interval between training status logs (default: 10)')
    args = parser.parse_args(list(argv))

    render_mode = "human" if args.render else None
    env = gym.make('CartPole-v1', render_mode=render_mode)
    env.reset(seed=args.seed)
    torch.manual_seed(args.seed)

    SavedAction = namedtuple('SavedAction', ['log_prob', 'value'])

    class Policy(nn.Module):
        """
        implements both actor and critic in one model
        """
        def __init__(self):
            super(Policy, self).__init__()
            self.affine1 = nn.Linear(4, 128)

            # actor's layer
            self.action_head = nn.Linear(128, 2)

            # critic's layer
            self.value_head = nn.Linear(128, 1)

            # action & reward buffer
            self.saved_actions = []
            self.rewards = []

        def forward(self, x):
            """
            forward of both actor and critic
            """
            x = F.relu(self.affine1(x))

            # actor: choses action to take from state s_t
            # by returning probability of each action
            action_prob = F.softmax(self.action_head(x), dim=-1)

            # critic: evaluates being in the state s_t
            state_values = self.value_head(x)

            # return values for both actor and critic as a tuple of 2 values:
            # 1. a list with the probability of each action over the action space
            # 2. the value from state s_t
            return action_prob, state_values

    model = Policy()
    optimizer = optim.Adam(model.parameters(), lr=3e-2)
    eps = np.finfo(np.float32).eps.item()

    def select_action(state):
        state = torch.from_numpy(state).float()
        probs, state_value = model(state)

        # create a categorical distribution over the list of probabilities of actions
        m = Categorical(probs)

        # and sample an action using the distribution
        action = m.sample()

        # save to action buffer
        model.saved_actions.append(SavedAction(m.log_prob(action), state_value))

        # the action to take (left or right)
        return action.item()

    def finish_episode():
        """
        Training code. Calculates actor and critic loss and performs backprop.
        """
        R = 0
        saved_actions = model.saved_actions
        policy_losses = [] # list to save actor (policy) loss
        value_losses = [] # list to save critic (value) loss
        returns = [] # list to save the true values

        # calculate the true value using rewards returned from the environment
        for r in model.rewards[::-1]:
            # calculate the discounted value
            R = r + args.gamma * R
            returns.insert(0, R)

        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + eps)

        for (log_prob, value), R in zip(saved_actions, returns):
            advantage = R - value.item()

            # calculate actor (policy) loss
            policy_losses.append(-log_prob * advantage)

            # calculate critic (value) loss using L1 smooth loss
            value_losses.append(F.smooth_l1_loss(value, torch.tensor([R])))

        # reset gradients
        optimizer.zero_grad()

        # sum up all the values of policy_losses and value_losses
        loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()

        # perform backprop
        loss.backward()
        optimizer.step()

        # reset rewards and action buffer
        del model.rewards[:]
        del model.saved_actions[:]

    def main():
        running_reward = 10

        # run infinitely many episodes
        for i_episode in count(1):

            # reset environment and episode reward
            state, _ = env.reset()
            ep_reward = 0

            # for each episode, only run 9999 steps so that we don't
            # infinite loop while learning
            for t in range(1, 10000):

                # select action from policy
                action = select_action(state)

                # take the action
                state, reward, terminated, truncated, _ = env.step(action)

                model.rewards.append(reward)
                ep_reward += reward
                if terminated or truncated:
                    break

            # update cumulative reward
            running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward

            # perform backprop
            finish_episode()

            # log results
            if i_episode % args.log_interval == 0:
                print(f'Episode {i_episode}\tLast reward: {ep_reward:.2f}\t'
                      f'Average reward: {running_reward:.2f}')

            # check if we have "solved" the cart pole problem
            if running_reward > env.spec.reward_threshold:
                print(f"Solved! Running reward is now {running_reward} and "
                      f"the last episode runs to {t} time steps!")
                break

    return dict(args=args, env=env, SavedAction=SavedAction, Policy=Policy, model=model,
                optimizer=optimizer, eps=eps, select_action=select_action,
                finish_episode=finish_episode, main=main)
