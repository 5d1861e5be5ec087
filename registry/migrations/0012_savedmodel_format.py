from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0011_model_formats'),
    ]

    operations = [
        migrations.AlterField(
            model_name='modelversion',
            name='format',
            field=models.CharField(choices=[
                ('onnx', 'Onnx'), ('skops', 'Skops'), ('pickle', 'Pickle'), ('joblib', 'Joblib'),
                ('xgboost', 'Xgboost'), ('lightgbm', 'Lightgbm'), ('torchscript', 'Torchscript'),
                ('savedmodel', 'Savedmodel'),
            ], max_length=20),
        ),
    ]
