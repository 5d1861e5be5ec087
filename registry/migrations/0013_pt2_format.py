from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0012_savedmodel_format'),
    ]

    operations = [
        migrations.AlterField(
            model_name='modelversion',
            name='format',
            field=models.CharField(choices=[
                ('onnx', 'Onnx'), ('skops', 'Skops'), ('pickle', 'Pickle'), ('joblib', 'Joblib'),
                ('xgboost', 'Xgboost'), ('lightgbm', 'Lightgbm'), ('torchscript', 'Torchscript'),
                ('savedmodel', 'Savedmodel'), ('pt2', 'Pt2'),
            ], max_length=20),
        ),
    ]
