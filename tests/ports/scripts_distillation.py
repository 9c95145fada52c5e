"""PyTorch's knowledge distillation tutorial, ported by changing the imports (same contract as
``scripts.py``). Transcribed from pytorch/tutorials
beginner_source/knowledge_distillation_tutorial.py: DeepNN, LightNN, the Cosine and Regressor
variants, train, test, train_knowledge_distillation, train_cosine_loss, test_multiple_outputs,
train_mse_loss. CIFAR-10 is replaced by loaders passed
in, epochs are passed in, and the per-epoch prints are replaced by returned mean losses.
"""


def make_models(torch, nn):
    """The tutorial's six model classes, by name."""

    # Deeper neural network class to be used as teacher
    class DeepNN(nn.Module):
        def __init__(self, num_classes=10):
            super(DeepNN, self).__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 128, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.Conv2d(128, 64, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=2, stride=2),
                nn.Conv2d(64, 64, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.Conv2d(64, 32, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=2, stride=2),
            )
            self.classifier = nn.Sequential(
                nn.Linear(2048, 512),
                nn.ReLU(),
                nn.Dropout(0.1),
                nn.Linear(512, num_classes)
            )

        def forward(self, x):
            x = self.features(x)
            x = torch.flatten(x, 1)
            x = self.classifier(x)
            return x

    # Lightweight neural network class to be used as student
    class LightNN(nn.Module):
        def __init__(self, num_classes=10):
            super(LightNN, self).__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 16, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=2, stride=2),
                nn.Conv2d(16, 16, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=2, stride=2),
            )
            self.classifier = nn.Sequential(
                nn.Linear(1024, 256),
                nn.ReLU(),
                nn.Dropout(0.1),
                nn.Linear(256, num_classes)
            )

        def forward(self, x):
            x = self.features(x)
            x = torch.flatten(x, 1)
            x = self.classifier(x)
            return x

    class ModifiedDeepNNCosine(DeepNN):
        # upstream repeats DeepNN's __init__ verbatim; only forward differs
        def forward(self, x):
            x = self.features(x)
            flattened_conv_output = torch.flatten(x, 1)
            x = self.classifier(flattened_conv_output)
            flattened_conv_output_after_pooling = torch.nn.functional.avg_pool1d(
                flattened_conv_output, 2)
            return x, flattened_conv_output_after_pooling

    class ModifiedLightNNCosine(LightNN):
        # upstream repeats LightNN's __init__ verbatim; only forward differs
        def forward(self, x):
            x = self.features(x)
            flattened_conv_output = torch.flatten(x, 1)
            x = self.classifier(flattened_conv_output)
            return x, flattened_conv_output

    class ModifiedDeepNNRegressor(DeepNN):
        def forward(self, x):
            x = self.features(x)
            conv_feature_map = x
            x = torch.flatten(x, 1)
            x = self.classifier(x)
            return x, conv_feature_map

    class ModifiedLightNNRegressor(nn.Module):
        def __init__(self, num_classes=10):
            super(ModifiedLightNNRegressor, self).__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 16, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=2, stride=2),
                nn.Conv2d(16, 16, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=2, stride=2),
            )
            # Include an extra regressor (in our case linear)
            self.regressor = nn.Sequential(
                nn.Conv2d(16, 32, kernel_size=3, padding=1)
            )
            self.classifier = nn.Sequential(
                nn.Linear(1024, 256),
                nn.ReLU(),
                nn.Dropout(0.1),
                nn.Linear(256, num_classes)
            )

        def forward(self, x):
            x = self.features(x)
            regressor_output = self.regressor(x)
            x = torch.flatten(x, 1)
            x = self.classifier(x)
            return x, regressor_output

    return dict(DeepNN=DeepNN, LightNN=LightNN, ModifiedDeepNNCosine=ModifiedDeepNNCosine,
                ModifiedLightNNCosine=ModifiedLightNNCosine,
                ModifiedDeepNNRegressor=ModifiedDeepNNRegressor,
                ModifiedLightNNRegressor=ModifiedLightNNRegressor)


def loops(torch, nn, optim):
    """The tutorial's train and test functions, by name."""

    def train(model, train_loader, epochs, learning_rate, device):
        criterion = nn.CrossEntropyLoss()
        optimizer = optim.Adam(model.parameters(), lr=learning_rate)

        model.to(device)
        model.train()

        history = []
        for epoch in range(epochs):
            running_loss = 0.0
            for inputs, labels in train_loader:
                inputs, labels = inputs.to(device), labels.to(device)

                optimizer.zero_grad()
                outputs = model(inputs)

                loss = criterion(outputs, labels)
                loss.backward()
                optimizer.step()

                running_loss += loss.item()

            history.append(running_loss / len(train_loader))
        return history

    def test(model, test_loader, device):
        model.to(device)
        model.eval()

        correct = 0
        total = 0

        with torch.no_grad():
            for inputs, labels in test_loader:
                inputs, labels = inputs.to(device), labels.to(device)

                outputs = model(inputs)
                _, predicted = torch.max(outputs.data, 1)

                total += labels.size(0)
                correct += (predicted == labels).sum().item()

        accuracy = 100 * correct / total
        return accuracy

    def train_knowledge_distillation(teacher, student, train_loader, epochs, learning_rate, T,
                                     soft_target_loss_weight, ce_loss_weight, device):
        ce_loss = nn.CrossEntropyLoss()
        optimizer = optim.Adam(student.parameters(), lr=learning_rate)

        teacher.to(device)
        student.to(device)
        teacher.eval()  # Teacher set to evaluation mode
        student.train()  # Student to train mode

        history = []
        for epoch in range(epochs):
            running_loss = 0.0
            for inputs, labels in train_loader:
                inputs, labels = inputs.to(device), labels.to(device)

                optimizer.zero_grad()

                # Forward pass with the teacher model - do not save gradients here as we do
                # not change the teacher's weights
                with torch.no_grad():
                    teacher_logits = teacher(inputs)

                # Forward pass with the student model
                student_logits = student(inputs)

                # Soften the student logits by applying softmax first and log() second
                soft_targets = nn.functional.softmax(teacher_logits / T, dim=-1)
                soft_prob = nn.functional.log_softmax(student_logits / T, dim=-1)

                # Calculate the soft targets loss. Scaled by T**2 as suggested by the authors
                # of the paper "Distilling the knowledge in a neural network"
                soft_targets_loss = -torch.sum(soft_targets * soft_prob) / \
                    soft_prob.size()[0] * (T**2)

                # Calculate the true label loss
                label_loss = ce_loss(student_logits, labels)

                # Weighted sum of the two losses
                loss = soft_target_loss_weight * soft_targets_loss + ce_loss_weight * label_loss

                loss.backward()
                optimizer.step()

                running_loss += loss.item()

            history.append(running_loss / len(train_loader))
        return history

    def train_cosine_loss(teacher, student, train_loader, epochs, learning_rate,
                          hidden_rep_loss_weight, ce_loss_weight, device):
        ce_loss = nn.CrossEntropyLoss()
        cosine_loss = nn.CosineEmbeddingLoss()
        optimizer = optim.Adam(student.parameters(), lr=learning_rate)

        teacher.to(device)
        student.to(device)
        teacher.eval()  # Teacher set to evaluation mode
        student.train()  # Student to train mode

        history = []
        for epoch in range(epochs):
            running_loss = 0.0
            for inputs, labels in train_loader:
                inputs, labels = inputs.to(device), labels.to(device)

                optimizer.zero_grad()

                # Forward pass with the teacher model and keep only the hidden representation
                with torch.no_grad():
                    _, teacher_hidden_representation = teacher(inputs)

                # Forward pass with the student model
                student_logits, student_hidden_representation = student(inputs)

                # Calculate the cosine loss. Target is a vector of ones.
                hidden_rep_loss = cosine_loss(student_hidden_representation,
                                              teacher_hidden_representation,
                                              target=torch.ones(inputs.size(0)).to(device))

                # Calculate the true label loss
                label_loss = ce_loss(student_logits, labels)

                # Weighted sum of the two losses
                loss = hidden_rep_loss_weight * hidden_rep_loss + ce_loss_weight * label_loss

                loss.backward()
                optimizer.step()

                running_loss += loss.item()

            history.append(running_loss / len(train_loader))
        return history

    def test_multiple_outputs(model, test_loader, device):
        model.to(device)
        model.eval()

        correct = 0
        total = 0

        with torch.no_grad():
            for inputs, labels in test_loader:
                inputs, labels = inputs.to(device), labels.to(device)

                outputs, _ = model(inputs)  # In this line we disregard the second tensor
                _, predicted = torch.max(outputs.data, 1)

                total += labels.size(0)
                correct += (predicted == labels).sum().item()

        accuracy = 100 * correct / total
        return accuracy

    def train_mse_loss(teacher, student, train_loader, epochs, learning_rate,
                       feature_map_weight, ce_loss_weight, device):
        ce_loss = nn.CrossEntropyLoss()
        mse_loss = nn.MSELoss()
        optimizer = optim.Adam(student.parameters(), lr=learning_rate)

        teacher.to(device)
        student.to(device)
        teacher.eval()  # Teacher set to evaluation mode
        student.train()  # Student to train mode

        history = []
        for epoch in range(epochs):
            running_loss = 0.0
            for inputs, labels in train_loader:
                inputs, labels = inputs.to(device), labels.to(device)

                optimizer.zero_grad()

                # Again ignore teacher logits
                with torch.no_grad():
                    _, teacher_feature_map = teacher(inputs)

                # Forward pass with the student model
                student_logits, regressor_feature_map = student(inputs)

                # Calculate the loss
                hidden_rep_loss = mse_loss(regressor_feature_map, teacher_feature_map)

                # Calculate the true label loss
                label_loss = ce_loss(student_logits, labels)

                # Weighted sum of the two losses
                loss = feature_map_weight * hidden_rep_loss + ce_loss_weight * label_loss

                loss.backward()
                optimizer.step()

                running_loss += loss.item()

            history.append(running_loss / len(train_loader))
        return history

    return dict(train=train, test=test, train_knowledge_distillation=train_knowledge_distillation,
                train_cosine_loss=train_cosine_loss, test_multiple_outputs=test_multiple_outputs,
                train_mse_loss=train_mse_loss)


def distillation(torch, nn, optim, train_loader, test_loader, epochs, device="cpu"):
    """The tutorial's main line: teacher, CE student, KD student, cosine and MSE students."""
    M, L = make_models(torch, nn), loops(torch, nn, optim)
    out = {}
    torch.manual_seed(42)
    nn_deep = M["DeepNN"](num_classes=10)
    out["teacher_losses"] = L["train"](nn_deep, train_loader, epochs=epochs,
                                       learning_rate=0.001, device=device)
    out["test_accuracy_deep"] = L["test"](nn_deep, test_loader, device)

    torch.manual_seed(42)
    nn_light = M["LightNN"](num_classes=10)
    torch.manual_seed(42)
    new_nn_light = M["LightNN"](num_classes=10)
    out["norms"] = (torch.norm(nn_light.features[0].weight).item(),
                    torch.norm(new_nn_light.features[0].weight).item())
    out["total_params"] = ("{:,}".format(sum(p.numel() for p in nn_deep.parameters())),
                           "{:,}".format(sum(p.numel() for p in nn_light.parameters())))

    out["light_losses"] = L["train"](nn_light, train_loader, epochs=epochs, learning_rate=0.001,
                                     device=device)
    out["test_accuracy_light_ce"] = L["test"](nn_light, test_loader, device)

    out["kd_losses"] = L["train_knowledge_distillation"](
        teacher=nn_deep, student=new_nn_light, train_loader=train_loader, epochs=epochs,
        learning_rate=0.001, T=2, soft_target_loss_weight=0.25, ce_loss_weight=0.75,
        device=device)
    out["test_accuracy_light_ce_and_kd"] = L["test"](new_nn_light, test_loader, device)

    modified_nn_deep = M["ModifiedDeepNNCosine"](num_classes=10)
    modified_nn_deep.load_state_dict(nn_deep.state_dict())
    out["deep_norms"] = (torch.norm(nn_deep.features[0].weight).item(),
                         torch.norm(modified_nn_deep.features[0].weight).item())
    torch.manual_seed(42)
    modified_light_nn = M["ModifiedLightNNCosine"](num_classes=10)
    out["cosine_losses"] = L["train_cosine_loss"](
        teacher=modified_nn_deep, student=modified_light_nn, train_loader=train_loader,
        epochs=epochs, learning_rate=0.001, hidden_rep_loss_weight=0.25, ce_loss_weight=0.75,
        device=device)
    out["test_accuracy_light_ce_and_cosine_loss"] = L["test_multiple_outputs"](
        modified_light_nn, test_loader, device)

    torch.manual_seed(42)
    modified_light_nn_mse = M["ModifiedLightNNRegressor"](num_classes=10)
    modified_nn_deep_reg = M["ModifiedDeepNNRegressor"](num_classes=10)
    modified_nn_deep_reg.load_state_dict(nn_deep.state_dict())
    out["mse_losses"] = L["train_mse_loss"](
        teacher=modified_nn_deep_reg, student=modified_light_nn_mse, train_loader=train_loader,
        epochs=epochs, learning_rate=0.001, feature_map_weight=0.25, ce_loss_weight=0.75,
        device=device)
    out["test_accuracy_light_ce_and_mse_loss"] = L["test_multiple_outputs"](
        modified_light_nn_mse, test_loader, device)
    out["models"] = (nn_deep, nn_light, new_nn_light, modified_light_nn, modified_light_nn_mse)
    return out
